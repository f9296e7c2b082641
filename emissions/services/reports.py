"""services: reports (see the package docstring)."""
