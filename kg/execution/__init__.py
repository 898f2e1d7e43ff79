"""Running clients' queries: refusals, deadlines, caches and serialization within the size caps."""
