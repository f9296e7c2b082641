"""views for certificates (built in later issues)."""
