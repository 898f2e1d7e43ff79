"""The HTTP faces besides GraphQL: the SPARQL endpoint, named-query routes, pages, OpenAPI, operations and
``kg serve``."""
