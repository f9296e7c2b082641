"""Writes of the declarant side, one module per area."""
