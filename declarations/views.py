"""views for declarations (built in later issues)."""
