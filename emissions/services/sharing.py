"""services: sharing (see the package docstring)."""
