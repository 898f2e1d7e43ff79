"""Where the graph lives: the backends that answer queries, the label index beside them, and ``kg build``."""
