"""API: installations."""

urlpatterns: list = []
