"""Knowledge graph of stem-cell therapies for autoimmune disease: curated Turtle, validated, served."""

__version__ = "0.1.0"
