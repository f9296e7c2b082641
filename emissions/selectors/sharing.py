"""selectors: sharing (see the package docstring)."""
