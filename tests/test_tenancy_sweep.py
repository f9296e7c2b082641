"""A sweep over every page and API route that takes an object id: with the demo data seeded, a
member of an unrelated organisation never gets a 200 for any id that exists. Each view has its own
three-persona test; this one catches a route added without the organisation check."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db.models import Max
from django.urls import URLPattern, URLResolver, get_resolver

from cbam_portal.accounts.models import Organisation
from cbam_portal.accounts.policy import Role
from cbam_portal.core.models import AuditEvent
from tests.conftest import api_login, login
from tests.factories import MembershipFactory, OrganisationFactory
from tests.reference.conftest import load_builtin

# Sequences restart for each test (PostgreSQL's would not roll back), so the demo's ids are 1..N.
pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)

#: Public or not tenant-owned: reference data, the quick assessment, the schema, admin, allauth.
PUBLIC_PREFIXES = (
    "reference/",
    "api/v1/reference/",
    "api/schema",
    "api/docs",
    "admin/",
    "accounts/",
    "declarations/assess",
)


_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _routes(resolver=None, prefix: str = ""):
    """(route text with ``{}`` for each id) of every pattern whose arguments are all ids: path
    converters ``<int:…>`` and the routers' regex groups (``(?P<pk>[^/.]+)``); format suffixes are
    left out."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        text = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, text)
            continue
        if not isinstance(pattern, URLPattern):
            continue
        if "<" not in text or "format" in text:
            continue
        converters = getattr(pattern.pattern, "converters", {})
        if converters and not all(type(c).__name__ == "IntConverter" for c in converters.values()):
            continue
        route = re.sub(r"<int:\w+>", "{}", text)
        route = _GROUP.sub("{}", route).replace("\\.", ".").replace("/?", "/")
        if "<" in route or "(" in route or "\\" in route:
            continue  # another kind of argument (a token, a slug): not an object id
        yield route


def _fill(route: str, value: int) -> str:
    return "/" + route.replace("{}", str(value))


@pytest.fixture
def demo():
    load_builtin()
    call_command("seed_demo", stdout=io.StringIO())
    return Organisation.objects.aggregate(top=Max("pk"))["top"]


@pytest.mark.parametrize("kind", ["declarant", "operator"])
def test_no_route_with_an_id_answers_an_unrelated_organisation(demo, kind):
    outsider_org = OrganisationFactory(kind=kind, **({"eori": ""} if kind == "operator" else {}))
    membership = MembershipFactory(organisation=outsider_org, role=Role.ADMIN)
    outsider = membership.user
    own = {f"/api/v1/members/{membership.pk}/"}  # the outsider's own membership is theirs to read
    page_client, api_client = login(outsider, outsider_org), api_login(outsider, outsider_org)
    routes = [r for r in _routes() if not r.startswith(PUBLIC_PREFIXES)]
    assert len(routes) > 100  # the sweep really covers the portal (pages and API)

    # The demo's ids are small integers; every table it fills has rows with ids 1..N.
    ids = range(1, 26)
    leaks = []
    for route in routes:
        client = api_client if route.startswith("api/") else page_client
        for value in ids:
            path = _fill(route, value)
            response = client.get(path, HTTP_ACCEPT="text/html,application/json")
            if response.status_code == 200 and path not in own:
                leaks.append(path)
    assert leaks == [], f"an unrelated {kind} organisation read: {leaks[:10]}"
    assert (
        not AuditEvent.objects.filter(organisation=outsider_org)
        .exclude(verb__startswith="organisation.")
        .exists()
    )


def test_the_sweep_reaches_real_objects_for_their_own_organisation(demo):
    """The control: the same paths answer the demo declarant's own administrator, so the 404s
    above come from the organisation check, not from ids or paths that do not exist."""
    from cbam_portal.accounts.models import Membership

    owner = Membership.objects.get(user__email="anna.admin@rheinstahl.example")
    page_client = login(owner.user, owner.organisation)
    api_client = api_login(owner.user, owner.organisation)
    answered = set()
    for route in _routes():
        if route.startswith(PUBLIC_PREFIXES):
            continue
        client = api_client if route.startswith("api/") else page_client
        for value in range(1, 26):
            if client.get(_fill(route, value), HTTP_ACCEPT="text/html,application/json").status_code == 200:
                answered.add(route)
                break
    # Declarations, groups, imports, suppliers, requests, shared reports, jobs... (pages and API)
    assert len(answered) >= 25, sorted(answered)
    assert any(r.startswith("api/") for r in answered) and any(not r.startswith("api/") for r in answered)
