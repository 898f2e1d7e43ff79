"""`kg draft` and `kg accept`: a rule-based, offline assistant that drafts the claims of a new article for review."""
