"""selectors for emissions (built in later issues)."""
