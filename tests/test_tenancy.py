"""The tenancy core: access resolution, the active organisation and the sealed API base class."""

import pytest
from django.test import RequestFactory
from rest_framework import serializers
from rest_framework.test import APIRequestFactory, force_authenticate

from cbam_portal.accounts.access import access_for, accesses_for_user, organisation_access_or_404
from cbam_portal.accounts.api_base import TenantScopedModelViewSet
from cbam_portal.accounts.middleware import SESSION_KEY, ActiveOrganisationMiddleware
from cbam_portal.accounts.models import Membership
from cbam_portal.accounts.policy import Capability, Role
from cbam_portal.core.models import Job

from .factories import MembershipFactory, OrganisationFactory, RepresentationFactory, RepresentativeFactory


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["id", "kind", "status"]


class ExampleJobViewSet(TenantScopedModelViewSet):
    queryset = Job.objects.all()
    serializer_class = JobSerializer

    def perform_create(self, serializer):
        serializer.save(organisation=self.access.organisation)


def test_a_subclass_that_overrides_get_queryset_is_refused():
    with pytest.raises(TypeError, match="sealed"):

        class Leaky(TenantScopedModelViewSet):  # noqa: F841
            queryset = Job.objects.all()

            def get_queryset(self):
                return Job.objects.all()


def test_member_access_carries_the_capabilities_of_the_role(personas):
    owner = access_for(personas.owner, personas.organisation.pk)
    viewer = access_for(personas.viewer, personas.organisation.pk)
    assert owner.can(Capability.MANAGE_MEMBERS) and owner.can(Capability.EDIT)
    assert viewer.can(Capability.VIEW) and not viewer.can(Capability.EDIT)


def test_outsider_has_no_access_and_gets_404(personas):
    from django.http import Http404

    assert access_for(personas.outsider, personas.organisation.pk) is None
    with pytest.raises(Http404):
        organisation_access_or_404(personas.outsider, personas.organisation.pk)


def test_viewer_is_refused_a_capability_with_403(personas):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        organisation_access_or_404(personas.viewer, personas.organisation.pk, Capability.EDIT)


def test_representative_members_act_for_represented_importers_without_administering_them(db):
    representation = RepresentationFactory()
    member = MembershipFactory(organisation=representation.representative, role=Role.ADMIN).user
    access = access_for(member, representation.importer.pk)
    assert access is not None
    assert access.via == representation.representative
    assert access.can(Capability.EDIT) and access.can(Capability.APPROVE)
    assert not access.can(Capability.MANAGE_MEMBERS)
    assert not access.can(Capability.MANAGE_API_KEYS)
    # An importer the representative does not represent stays out of reach.
    assert access_for(member, OrganisationFactory().pk) is None


def test_all_organisations_of_a_user_are_listed_in_two_queries(db, django_assert_num_queries):
    rep = RepresentativeFactory()
    user = MembershipFactory(organisation=rep, role=Role.PREPARER).user
    MembershipFactory(user=user, role=Role.VIEWER)
    for _ in range(3):
        RepresentationFactory(representative=rep)
    with django_assert_num_queries(2):
        accesses = accesses_for_user(user)
    assert len(accesses) == 5
    assert sum(1 for a in accesses if a.via == rep) == 3


def test_the_active_organisation_falls_back_when_membership_ends(personas):
    second = MembershipFactory(user=personas.preparer, role=Role.VIEWER).organisation
    request = RequestFactory().get("/")
    request.user = personas.preparer
    request.session = {SESSION_KEY: personas.organisation.pk}
    ActiveOrganisationMiddleware(lambda r: None)(request)
    assert request.access.organisation == personas.organisation

    Membership.objects.filter(user=personas.preparer, organisation=personas.organisation).delete()
    ActiveOrganisationMiddleware(lambda r: None)(request)
    assert request.access.organisation == second
    assert request.session[SESSION_KEY] == second.pk


def _call(user, method="get", pk=None, data=None, headers=None, organisation=None):
    factory = APIRequestFactory()
    path = "/example/" + (f"{pk}/" if pk else "")
    request = getattr(factory, method)(path, data, format="json", **(headers or {}))
    request.session = {SESSION_KEY: organisation.pk} if organisation else {}
    request.user = user
    request.access = access_for(user, organisation.pk) if organisation else None
    force_authenticate(request, user=user)
    actions = {"get": "retrieve" if pk else "list", "post": "create", "delete": "destroy"}
    view = ExampleJobViewSet.as_view({method: actions[method]})
    return view(request, pk=pk) if pk else view(request)


def test_api_lists_only_the_active_organisations_rows(personas):
    mine = Job.objects.create(organisation=personas.organisation, kind="x")
    Job.objects.create(organisation=personas.other_organisation, kind="x")
    response = _call(personas.owner, organisation=personas.organisation)
    assert response.status_code == 200
    assert [row["id"] for row in response.data["results"]] == [mine.pk]


def test_api_returns_404_for_another_organisations_row(personas):
    theirs = Job.objects.create(organisation=personas.other_organisation, kind="x")
    response = _call(personas.owner, pk=theirs.pk, organisation=personas.organisation)
    assert response.status_code == 404


def test_api_returns_404_when_the_header_names_an_organisation_of_someone_else(personas):
    response = _call(
        personas.outsider,
        headers={"HTTP_X_ORGANISATION": str(personas.organisation.pk)},
        organisation=personas.other_organisation,
    )
    assert response.status_code == 404


def test_api_refuses_writes_to_a_viewer_with_403_and_writes_nothing(personas):
    response = _call(personas.viewer, method="post", data={"kind": "x"}, organisation=personas.organisation)
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_api_owner_can_write_into_the_active_organisation_only(personas):
    response = _call(personas.owner, method="post", data={"kind": "x"}, organisation=personas.organisation)
    assert response.status_code == 201
    assert Job.objects.get().organisation == personas.organisation


def test_api_without_any_organisation_is_refused(db):
    from .factories import UserFactory

    response = _call(UserFactory())
    assert response.status_code == 403
