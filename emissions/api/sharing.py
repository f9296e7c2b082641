"""API: sharing."""

urlpatterns: list = []
