"""forms for certificates (built in later issues)."""
