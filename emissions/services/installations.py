"""services: installations (see the package docstring)."""
