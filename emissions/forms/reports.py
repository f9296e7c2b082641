"""forms: reports (see the package docstring)."""
