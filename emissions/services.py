"""services for emissions (built in later issues)."""
