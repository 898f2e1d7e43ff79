"""The browser editors of the endpoints, YASGUI and GraphiQL, from pinned npm files: ``assets`` (the pins, their
checks and `kg assets fetch`) and ``pages`` (the pages and the installed files at /assets/)."""
