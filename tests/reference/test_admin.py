"""Admin: the small tables can be edited as new values are published; published tables cannot."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cbam_portal.core.models import AuditEvent
from cbam_portal.reference.models import CbamFactor, CertificatePrice, Dataset, DatasetKind
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_a_published_certificate_price_can_be_added_in_the_admin(reference_data, admin_client):
    dataset = Dataset.objects.get(kind=DatasetKind.CERTIFICATE_PRICES, is_current=True)
    response = admin_client.post(
        reverse("admin:reference_certificateprice_add"),
        {
            "dataset": dataset.pk,
            "period_start": "2026-07-01",
            "period_end": "2026-09-30",
            "price_eur": "76.10",
            "source": "Commission publication of 5 October 2026",
            "published_on": "2026-10-05",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CertificatePrice.objects.get(dataset=dataset, period_start="2026-07-01").price_eur == Decimal(
        "76.10"
    )


def test_the_cbam_factor_can_be_edited_in_the_admin(reference_data, admin_client):
    factor = CbamFactor.objects.get(year=2026)
    response = admin_client.post(
        reverse("admin:reference_cbamfactor_change", args=[factor.pk]),
        {"dataset": factor.dataset_id, "year": 2026, "factor": "0.975000"},
    )
    assert response.status_code == 302


def test_published_default_values_are_read_only_in_the_admin(reference_data, admin_client):
    assert admin_client.get(reverse("admin:reference_defaultvalue_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:reference_defaultvalue_add")).status_code == 403


def test_a_dataset_entered_by_hand_can_be_made_current(reference_data, admin_client):
    response = admin_client.post(
        reverse("admin:reference_dataset_add"),
        {
            "kind": DatasetKind.CSCF,
            "legal_act": "Implementing Decision (EU) 2026/1862",
            "version": "OJ text",
            "source": "Official Journal",
            "notes": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    manual = Dataset.objects.get(kind=DatasetKind.CSCF, version="OJ text")
    assert manual.sha256.startswith("admin-") and not manual.is_current
    response = admin_client.post(
        reverse("admin:reference_dataset_changelist"),
        {"action": "make_current", "_selected_action": [manual.pk]},
    )
    assert response.status_code == 302
    assert Dataset.objects.get(kind=DatasetKind.CSCF, is_current=True).pk == manual.pk
    assert AuditEvent.objects.filter(verb="reference.dataset_made_current", target_id=str(manual.pk)).exists()
