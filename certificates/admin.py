"""admin for certificates (built in later issues)."""
