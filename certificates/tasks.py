"""tasks for certificates (built in later issues)."""
