"""tasks for emissions (built in later issues)."""
