"""selectors for certificates (built in later issues)."""
