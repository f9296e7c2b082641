"""selectors: reports (see the package docstring)."""
