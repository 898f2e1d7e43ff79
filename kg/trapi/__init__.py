"""A Translator Reasoner API (TRAPI 1.5) knowledge provider over the claims: Biolink terms, one-hop query graphs."""
