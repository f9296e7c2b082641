"""Forms of the operator side, one module per area."""
