"""Reading and writing RDF: the Turtle files parsed into quads (one named graph per file), and canonical Turtle."""
