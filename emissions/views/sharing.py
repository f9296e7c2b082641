"""Views: sharing."""

urlpatterns: list = []
