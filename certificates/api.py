"""DRF views and serializers for certificates (built in later issues)."""
