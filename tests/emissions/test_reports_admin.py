import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_admin_lists_and_shows_reports_read_only(staff_client, example3):
    assert staff_client.get(reverse("admin:emissions_emissionsreport_changelist")).status_code == 200
    page = staff_client.get(reverse("admin:emissions_emissionsreport_change", args=[example3.report.pk]))
    assert page.status_code == 200
    assert staff_client.get(reverse("admin:emissions_installation_add")).status_code == 403
    for name in ("installation", "productionprocess", "sharinggrant", "datarequest"):
        assert staff_client.get(reverse(f"admin:emissions_{name}_changelist")).status_code == 200
