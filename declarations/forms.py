"""forms for declarations (built in later issues)."""
