"""Views: installations."""

urlpatterns: list = []
