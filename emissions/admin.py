"""admin for emissions (built in later issues)."""
