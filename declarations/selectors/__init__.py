"""Reads of the declarant side, one module per area, always scoped to one organisation."""
