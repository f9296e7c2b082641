"""models for certificates (built in later issues)."""
