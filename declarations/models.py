"""models for declarations (built in later issues)."""
