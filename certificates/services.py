"""services for certificates (built in later issues)."""
