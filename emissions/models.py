"""models for emissions (built in later issues)."""
