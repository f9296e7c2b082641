"""forms: installations (see the package docstring)."""
