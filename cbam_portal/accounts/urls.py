from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("new/", views.organisation_create, name="organisation_create"),
    path("switch/", views.organisation_switch, name="organisation_switch"),
    path("current/", views.organisation_detail, name="organisation_detail"),
    path("current/edit/", views.organisation_update, name="organisation_update"),
    path("current/members/<int:pk>/role/", views.membership_change_role, name="membership_change_role"),
    path("current/members/<int:pk>/remove/", views.membership_remove, name="membership_remove"),
    path("current/invitations/", views.invitation_create, name="invitation_create"),
    path("current/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("current/importers/", views.representation_create, name="representation_create"),
    path("current/importers/<int:pk>/remove/", views.representation_remove, name="representation_remove"),
    path("current/api-keys/", views.api_key_list, name="api_key_list"),
    path("current/api-keys/new/", views.api_key_create, name="api_key_create"),
    path("current/api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
