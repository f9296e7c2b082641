"""tasks for declarations (built in later issues)."""
