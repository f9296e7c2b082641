from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("new/", views.organisation_create, name="organisation_create"),
    path("switch/", views.organisation_switch, name="organisation_switch"),
    path("current/", views.organisation_detail, name="organisation_detail"),
]
