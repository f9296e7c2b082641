"""Package: one module per feature."""
