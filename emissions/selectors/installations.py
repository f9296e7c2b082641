"""selectors: installations (see the package docstring)."""
