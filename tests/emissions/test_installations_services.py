from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from cbam_portal.accounts.access import access_for
from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from emissions.selectors.installations import installation_get, installation_history, installation_list
from emissions.services.installations import installation_update
from tests.factories import OrganisationFactory

from .conftest import make_installation

pytestmark = pytest.mark.django_db


def test_operator_registers_an_installation_with_an_audit_event(operator_personas, actor):
    installation = make_installation(operator_personas.organisation, actor, unlocode="us pit")

    assert installation.unlocode == "US PIT"
    event = AuditEvent.objects.get(verb="installation.created")
    assert event.after["latitude"] == "40.440625"
    assert event.organisation == operator_personas.organisation


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unlocode", "PITTSBURGH", "UN/LOCODE"),
        ("unlocode", "DEHAM", "does not match"),
        ("latitude", D("91"), "less than or equal to 90"),
        ("longitude", D("181"), "less than or equal to 180"),
        ("latitude", D("40.1234567"), "6 decimal places"),
        ("country", "XX", "ISO 3166"),
    ],
)
def test_bad_installation_details_are_refused_naming_the_field(
    operator_personas, actor, field, value, message
):
    with pytest.raises(ValidationError) as exc:
        make_installation(operator_personas.organisation, actor, **{field: value})

    assert field in exc.value.message_dict
    assert message in " ".join(exc.value.message_dict[field])
    assert not operator_personas.organisation.installations.exists()


def test_a_declarant_cannot_register_installations(actor):
    with pytest.raises(ValidationError):
        make_installation(OrganisationFactory(), actor)


def test_updating_an_installation_records_before_and_after_of_changed_fields_only(operator_personas, actor):
    installation = make_installation(operator_personas.organisation, actor)

    installation_update(actor=actor, installation=installation, name="Renamed", latitude=D("40.440625"))

    event = AuditEvent.objects.get(verb="installation.updated")
    assert event.before == {"name": "Example Steel EAF"}
    assert event.after == {"name": "Renamed"}
    assert [e.verb for e in installation_history(installation)] == [
        "installation.updated",
        "installation.created",
    ]


def test_an_update_without_changes_writes_no_event(operator_personas, actor):
    installation = make_installation(operator_personas.organisation, actor)

    installation_update(actor=actor, installation=installation, city="Pittsburgh")

    assert not AuditEvent.objects.filter(verb="installation.updated").exists()


def test_unknown_fields_cannot_be_set(operator_personas, actor):
    installation = make_installation(operator_personas.organisation, actor)

    with pytest.raises(ValidationError) as exc:
        installation_update(actor=actor, installation=installation, organisation_id=1)

    assert "organisation_id" in exc.value.message_dict


def test_selectors_only_return_the_organisations_installations(operator_personas, actor):
    mine = make_installation(operator_personas.organisation, actor)
    theirs = make_installation(operator_personas.other_organisation, Actor(user=operator_personas.outsider))
    access = access_for(operator_personas.owner, operator_personas.organisation.pk)

    assert list(installation_list(access)) == [mine]
    with pytest.raises(Http404):
        installation_get(access, theirs.pk)
