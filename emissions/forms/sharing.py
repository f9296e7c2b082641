"""forms: sharing (see the package docstring)."""
