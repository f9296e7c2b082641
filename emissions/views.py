"""views for emissions (built in later issues)."""
