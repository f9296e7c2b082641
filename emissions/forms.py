"""forms for emissions (built in later issues)."""
