import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from cbam_portal.reference import selectors, services
from cbam_portal.reference.loaders import ReferenceDataError, opencbam, schedules
from cbam_portal.reference.models import (
    Benchmark,
    CbamFactor,
    CertificatePrice,
    CnGood,
    Country,
    Cscf,
    Dataset,
    DatasetKind,
    DefaultValue,
)

pytestmark = pytest.mark.django_db


def test_full_load_stores_every_published_row_and_makes_each_dataset_current(reference_data):
    assert CnGood.objects.count() == 569
    assert DefaultValue.objects.count() == 11391
    assert Benchmark.objects.count() == 2465
    assert list(CbamFactor.objects.values_list("year", "factor")) == [
        (2026, Decimal("0.975")),
        (2027, Decimal("0.95")),
        (2028, Decimal("0.90")),
        (2029, Decimal("0.775")),
        (2030, Decimal("0.515")),
        (2031, Decimal("0.39")),
        (2032, Decimal("0.265")),
        (2033, Decimal("0.14")),
        (2034, Decimal("0")),
    ]
    assert set(Cscf.objects.values_list("year", "value")) == {(y, Decimal("1")) for y in range(2026, 2031)}
    assert Dataset.objects.filter(is_current=True).count() == len(DatasetKind.values)


def test_china_7208_route_c_default_values_match_the_annex(reference_data):
    row = DefaultValue.objects.get(country_code="CN", cn_code="7208")
    assert row.total == Decimal("3.187")
    assert row.total_2026 == Decimal("3.506")
    assert row.route == "C"
    assert row.indirect is None and row.indirect_applicable is False


def test_albania_grey_clinker_is_a_variant_of_2523_10_00(reference_data):
    rows = {r.variant: r for r in DefaultValue.objects.filter(country_code="AL", cn_code="25231000")}
    assert set(rows) == {"Grey clinker", "White clinker"}
    grey = rows["Grey clinker"]
    assert (grey.total, grey.total_2026, grey.total_2027, grey.total_2028_onwards) == (
        Decimal("0.870"),
        Decimal("0.957"),
        Decimal("1.044"),
        Decimal("1.131"),
    )
    assert rows["White clinker"].total is None  # "–" in the Annex


def test_certificate_prices_keep_their_publication_dates_and_provisional_flag(reference_data):
    q1, q2 = CertificatePrice.objects.order_by("period_start")
    assert (q1.price_eur, q1.published_on.isoformat(), q1.provisional) == (
        Decimal("75.36"),
        "2026-04-07",
        False,
    )
    assert (q2.price_eur, q2.published_on.isoformat(), q2.provisional) == (
        Decimal("75.28"),
        "2026-07-06",
        True,
    )
    assert selectors.dataset_get(DatasetKind.CERTIFICATE_PRICES).provisional is True
    assert selectors.dataset_get(DatasetKind.CSCF).provisional is True


def test_datasets_carry_the_opencbam_attribution(reference_data):
    dataset = selectors.dataset_get(DatasetKind.DEFAULT_VALUES)
    assert "opencbam" in dataset.source
    assert "Apache License 2.0" in dataset.notes and "IA Climate Ops" in dataset.notes
    assert dataset.legal_act.startswith("Implementing Regulation (EU) 2025/2621")
    assert len(dataset.sha256) == 64


def test_countries_map_opencbam_names_and_flag_annex_iii_and_eu(reference_data):
    assert Country.objects.get(iso2="TR").default_values_name == "Türkiye"
    assert Country.objects.get(iso2="CD").default_values_name == "Democratic Republic of the Congo"
    assert Country.objects.get(iso2="CG").default_values_name == "Congo"
    assert Country.objects.get(iso2="MM").default_values_name == "Myanmar/Burma"
    excluded = set(Country.objects.filter(cbam_excluded=True).values_list("iso2", flat=True))
    assert excluded == {"IS", "LI", "NO", "CH", "XC", "XL"}
    assert "Büsingen" in Country.objects.get(iso2="DE").exclusion_note
    assert "Livigno" in Country.objects.get(iso2="IT").exclusion_note
    assert Country.objects.filter(is_eu=True).count() == 27
    assert not Country.objects.get(iso2="CH").is_eu


def test_reloading_the_same_files_writes_nothing_and_reports_unchanged(reference_data, capsys):
    before = (Dataset.objects.count(), DefaultValue.objects.count(), AuditEvent.objects.count())
    call_command("load_reference_data")
    out = capsys.readouterr().out
    assert out.count("unchanged") == len(DatasetKind.values)
    assert (Dataset.objects.count(), DefaultValue.objects.count(), AuditEvent.objects.count()) == before


def test_a_new_version_becomes_current_and_the_old_one_is_kept(reference_data):
    old = selectors.dataset_get(DatasetKind.DEFAULT_VALUES)
    old_rows = DefaultValue.objects.filter(dataset=old).count()
    records = json.loads(opencbam.read_file(opencbam.FILES[DatasetKind.DEFAULT_VALUES]))
    # A smaller "corrected publication": China and the fallback rows only.
    corrected = [dict(r) for r in records if r["country"] in ("China", "Other Countries and Territories")]
    for r in corrected:
        if r["country"] == "China" and r["cn_code"] == "7208":
            r["total"] = "3.200"
    parsed = opencbam.parse_default_values(json.dumps(corrected).encode())

    result = services.dataset_load(parsed=parsed, actor=Actor.system())

    assert result.status == "loaded"
    new = selectors.dataset_get(DatasetKind.DEFAULT_VALUES)
    assert new.pk == result.dataset.pk != old.pk
    old.refresh_from_db()
    assert old.is_current is False
    assert DefaultValue.objects.filter(dataset=old).count() == old_rows
    assert DefaultValue.objects.get(dataset=old, country_code="CN", cn_code="7208").total == Decimal("3.187")
    assert selectors.default_values_for("72081000", "CN").rows[0].total == Decimal("3.200")
    # A result that pinned the old dataset still reads the old value.
    assert selectors.default_values_for("72081000", "CN", dataset_id=old.pk).rows[0].total == Decimal("3.187")
    assert AuditEvent.objects.filter(verb="reference.dataset_loaded", target_id=str(new.pk)).exists()

    # Loading the earlier publication again makes it current again, without new rows.
    again = services.dataset_load(parsed=opencbam.parse_default_values(), actor=Actor.system())
    assert again.status == "reactivated" and again.dataset.pk == old.pk
    assert selectors.dataset_get(DatasetKind.DEFAULT_VALUES).pk == old.pk


def test_a_record_with_text_for_a_number_is_rejected_naming_the_record():
    records = [
        {
            "country": "China",
            "sector": "Iron and steel",
            "cn_code": "7208",
            "description": "x",
            "direct": "abc",
            "indirect": "NA",
            "total": "3.187",
            "markup_2026": "3.506",
            "markup_2027": "3.824",
            "markup_2028": "4.143",
            "route": "C",
        }
    ]
    with pytest.raises(
        ReferenceDataError, match=r"record 1 \(China, 7208\), field 'direct': expected a number"
    ):
        opencbam.parse_default_values(json.dumps(records).encode())


def test_an_unmapped_country_name_fails_loudly():
    records = [{"country": "Atlantis", "cn_code": "7208", "direct": "1", "indirect": "NA", "total": "1"}]
    with pytest.raises(ReferenceDataError, match="Unknown country name “Atlantis”"):
        opencbam.parse_default_values(json.dumps(records).encode())


def test_a_broken_schedule_file_is_rejected(tmp_path):
    path = tmp_path / "cbam_factor.json"
    path.write_text(json.dumps({"legal_act": "x", "version": "1", "source": "s", "values": {"2026": "lots"}}))
    with pytest.raises(ReferenceDataError, match=r"values\['2026'\]: expected a number"):
        schedules.parse_cbam_factor(path)
