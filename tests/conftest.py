"""Shared fixtures. Every view and endpoint is tested with three personas: the organisation's
owner (admin), a read-only member (viewer) and an outsider (admin of another organisation)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from cbam_portal.accounts.middleware import SESSION_KEY
from cbam_portal.accounts.models import Organisation
from cbam_portal.accounts.policy import Role

from .factories import MembershipFactory, OrganisationFactory, UserFactory


@dataclass
class Personas:
    organisation: Organisation
    other_organisation: Organisation
    owner: object
    viewer: object
    preparer: object
    reviewer: object
    outsider: object


def make_personas(kind: str = "declarant") -> Personas:
    organisation = OrganisationFactory(kind=kind, **({"eori": ""} if kind == "operator" else {}))
    other = OrganisationFactory(kind=kind, **({"eori": ""} if kind == "operator" else {}))
    owner = MembershipFactory(organisation=organisation, role=Role.ADMIN).user
    viewer = MembershipFactory(organisation=organisation, role=Role.VIEWER).user
    preparer = MembershipFactory(organisation=organisation, role=Role.PREPARER).user
    reviewer = MembershipFactory(organisation=organisation, role=Role.REVIEWER).user
    outsider = MembershipFactory(organisation=other, role=Role.ADMIN).user
    return Personas(organisation, other, owner, viewer, preparer, reviewer, outsider)


@pytest.fixture
def personas(db) -> Personas:
    return make_personas()


@pytest.fixture
def operator_personas(db) -> Personas:
    return make_personas("operator")


def login(user, organisation: Organisation | None = None) -> Client:
    """A browser-like client signed in as `user`, with `organisation` active when given."""
    client = Client()
    client.force_login(user)
    if organisation is not None:
        session = client.session
        session[SESSION_KEY] = organisation.pk
        session.save()
    return client


def api_login(user, organisation: Organisation | None = None) -> APIClient:
    client = APIClient()
    client.force_login(user)
    if organisation is not None:
        session = client.session
        session[SESSION_KEY] = organisation.pk
        session.save()
    return client


def persona_clients(personas: Personas, sign_in=None) -> dict:
    """The three personas signed in, each in its organisation: the owner and the viewer in the
    tested one, the outsider in another. Browser clients, or API clients with ``api_login``."""
    sign_in = sign_in or login
    return {
        "owner": sign_in(personas.owner, personas.organisation),
        "viewer": sign_in(personas.viewer, personas.organisation),
        "outsider": sign_in(personas.outsider, personas.other_organisation),
    }


@pytest.fixture
def clients(personas) -> dict:
    """Browser clients of the three personas (see :func:`persona_clients`)."""
    return persona_clients(personas)


@pytest.fixture
def api_clients(personas) -> dict:
    """API clients of the three personas (see :func:`persona_clients`)."""
    return persona_clients(personas, api_login)


@pytest.fixture
def user(db):
    return UserFactory()


def shared_data_dir() -> Path:
    return Path(settings.CBAM_SHARED_DATA_DIR)


def require_shared_data(*relative: str) -> Path:
    """The path of a Commission file in the shared reference folder, or skip with the reason.
    With CBAM_REQUIRE_SHARED_DATA=1 (CI) a missing file fails instead of skipping."""
    path = shared_data_dir().joinpath(*relative)
    if not path.exists():
        reason = f"Commission reference file not available: {path}"
        if os.environ.get("CBAM_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(reason + " (CBAM_REQUIRE_SHARED_DATA=1)")
        pytest.skip(reason)
    return path


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
