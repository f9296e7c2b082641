from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("members", api.MembershipViewSet, basename="member")
router.register("invitations", api.InvitationViewSet, basename="invitation")
router.register("api-keys", api.ApiKeyViewSet, basename="api-key")
router.register("representations", api.RepresentationViewSet, basename="representation")

current_organisation = api.CurrentOrganisationViewSet.as_view({"get": "retrieve", "patch": "partial_update"})

urlpatterns = [
    path("organisations/current/", current_organisation, name="organisation-current"),
    *router.urls,
]
