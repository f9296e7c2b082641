"""admin for declarations (built in later issues)."""
