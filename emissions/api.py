"""DRF views and serializers for emissions (built in later issues)."""
