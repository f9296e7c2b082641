import pytest

from cbam_portal.core.models import AuditEvent
from emissions.models import Installation
from tests.conftest import api_login, make_personas

from .conftest import make_installation

pytestmark = pytest.mark.django_db

URL = "/api/v1/installations/"
VALID = {
    "name": "Steel Works",
    "city": "Izmir",
    "country": "TR",
    "unlocode": "TRIZM",
    "latitude": "38.423734",
    "longitude": "27.142826",
}


def test_owner_lists_installations_with_bounded_queries(
    operator_personas, actor, django_assert_max_num_queries
):
    for i in range(4):
        make_installation(operator_personas.organisation, actor, name=f"Plant {i}")
    client = api_login(operator_personas.owner, operator_personas.organisation)

    with django_assert_max_num_queries(8):
        response = client.get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 4


def test_owner_creates_and_patches_an_installation(operator_personas):
    client = api_login(operator_personas.owner, operator_personas.organisation)

    created = client.post(URL, VALID, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    patched = client.patch(f"{URL}{pk}/", {"name": "Renamed"}, format="json")

    assert patched.status_code == 200
    assert patched.json()["name"] == "Renamed"
    event = AuditEvent.objects.get(verb="installation.updated")
    assert event.before == {"name": "Steel Works"} and event.after == {"name": "Renamed"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latitude", "91"),
        ("longitude", "181"),
        ("latitude", "1.1234567"),
        ("unlocode", "TURKEY"),
        ("country", "QQ"),
    ],
)
def test_bad_input_answers_400_with_the_field(operator_personas, field, value):
    client = api_login(operator_personas.owner, operator_personas.organisation)

    response = client.post(URL, {**VALID, field: value}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Installation.objects.exists()


def test_viewer_reads_but_cannot_write(operator_personas, actor):
    installation = make_installation(operator_personas.organisation, actor)
    client = api_login(operator_personas.viewer, operator_personas.organisation)

    assert client.get(f"{URL}{installation.pk}/").status_code == 200
    assert client.post(URL, VALID, format="json").status_code == 403
    assert client.patch(f"{URL}{installation.pk}/", {"name": "x"}, format="json").status_code == 403


def test_outsider_gets_404(operator_personas, actor):
    installation = make_installation(operator_personas.organisation, actor)
    client = api_login(operator_personas.outsider, operator_personas.other_organisation)

    assert client.get(f"{URL}{installation.pk}/").status_code == 404
    assert client.patch(f"{URL}{installation.pk}/", {"name": "x"}, format="json").status_code == 404
    assert client.get(URL).json()["count"] == 0


def test_declarants_have_no_installations_endpoint(db):
    personas = make_personas("declarant")
    client = api_login(personas.owner, personas.organisation)

    assert client.get(URL).status_code == 404
