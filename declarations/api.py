"""DRF views and serializers for declarations (built in later issues)."""
