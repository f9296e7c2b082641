"""selectors for declarations (built in later issues)."""
