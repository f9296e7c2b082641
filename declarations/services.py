"""services for declarations (built in later issues)."""
