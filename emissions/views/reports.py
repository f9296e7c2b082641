"""Views: reports."""

urlpatterns: list = []
