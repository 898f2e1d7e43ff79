"""The questions of the project: the named queries of ``queries/``, SPARQL text handling, and result formats."""
