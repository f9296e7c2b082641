import pytest
from django.urls import reverse

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from emissions.models import Installation
from tests.conftest import login, make_personas

from .conftest import make_installation

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Çelik Fabrikası",
    "name_en": "Steel Works",
    "street": "Sanayi Cd. 5",
    "city": "Izmir",
    "country": "TR",
    "unlocode": "TR IZM",
    "latitude": "38.423734",
    "longitude": "27.142826",
    "economic_activity": "Steel",
}


@pytest.fixture
def mine(operator_personas, actor):
    return make_installation(operator_personas.organisation, actor)


def test_owner_lists_installations_in_a_bounded_number_of_queries(
    operator_personas, actor, django_assert_max_num_queries
):
    for i in range(5):
        make_installation(operator_personas.organisation, actor, name=f"Plant {i}")
    client = login(operator_personas.owner, operator_personas.organisation)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("emissions:installation_list"))

    assert response.status_code == 200
    assert response.content.decode().count('href="/emissions/installations/') >= 5


def test_viewer_reads_the_list_and_detail_but_not_the_create_page(operator_personas, mine):
    client = login(operator_personas.viewer, operator_personas.organisation)

    assert client.get(reverse("emissions:installation_list")).status_code == 200
    assert client.get(reverse("emissions:installation_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("emissions:installation_create")).status_code == 403
    assert client.post(reverse("emissions:installation_update", args=[mine.pk]), VALID).status_code == 403
    assert Installation.objects.get(pk=mine.pk).name == "Example Steel EAF"


def test_outsider_gets_404_for_another_operators_installation(operator_personas, mine):
    client = login(operator_personas.outsider, operator_personas.other_organisation)

    assert client.get(reverse("emissions:installation_detail", args=[mine.pk])).status_code == 404
    assert client.post(reverse("emissions:installation_update", args=[mine.pk]), VALID).status_code == 404
    assert mine.name not in client.get(reverse("emissions:installation_list")).content.decode()


def test_declarant_organisations_do_not_have_installation_pages(db):
    personas = make_personas("declarant")
    client = login(personas.owner, personas.organisation)

    assert client.get(reverse("emissions:installation_list")).status_code == 404


def test_owner_registers_an_installation(operator_personas):
    client = login(operator_personas.owner, operator_personas.organisation)

    response = client.post(reverse("emissions:installation_create"), VALID)

    installation = Installation.objects.get(organisation=operator_personas.organisation)
    assert response.status_code == 302
    assert response["Location"] == reverse("emissions:installation_detail", args=[installation.pk])
    assert installation.unlocode == "TR IZM"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unlocode", "IZMIR1", "UN/LOCODE"),
        ("latitude", "91", "less than or equal to 90"),
        ("longitude", "181", "less than or equal to 180"),
        ("latitude", "38.4237341", "6 decimal places"),
    ],
)
def test_bad_installation_input_shows_the_error_next_to_the_field(operator_personas, field, value, message):
    client = login(operator_personas.owner, operator_personas.organisation)

    response = client.post(reverse("emissions:installation_create"), {**VALID, field: value})

    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert 'class="form-control is-invalid"' in response.content.decode()
    assert not Installation.objects.exists()


def test_editing_shows_the_change_in_the_history(operator_personas, mine):
    client = login(operator_personas.preparer, operator_personas.organisation)
    data = {**VALID, "name": "New name", "country": "US", "unlocode": "USPIT"}

    response = client.post(reverse("emissions:installation_update", args=[mine.pk]), data)
    assert response.status_code == 302

    page = client.get(reverse("emissions:installation_detail", args=[mine.pk])).content.decode()
    assert "installation.updated" in page
    assert "New name" in page and "Example Steel EAF" in page
    assert AuditEvent.objects.filter(verb="installation.updated", target_id=str(mine.pk)).count() == 1


def test_installation_detail_lists_reports_per_year(operator_personas, mine, django_assert_max_num_queries):
    from emissions.services.reports import report_create

    actor = Actor(user=operator_personas.owner)
    for year in (2026, 2027):
        report_create(actor=actor, installation=mine, year=year)
    client = login(operator_personas.viewer, operator_personas.organisation)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("emissions:installation_detail", args=[mine.pk]))

    assert [year for year, _ in response.context["years"]] == [2027, 2026]
    assert "Start a report" not in response.content.decode()
