"""Linked-data pages: routes with content negotiation, what the templates show, and the vocabulary's words."""
