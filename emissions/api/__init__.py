"""DRF views and serializers of the operator side, one module per area."""
