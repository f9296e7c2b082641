"""Demo data of the operator side: two Turkish installations, a submitted and verified 2026
report of the steelworks shared with a declarant, and an open data request from that declarant;
and a primary-aluminium smelter in Oman whose verified 2026 report is shared with the same declarant.

The steelworks' numbers are those of the Commission's worked example 2 (blast furnace route,
one "bubble" process): SEE direct 1.53898, indirect 0.20355, total 1.74253 tCO2e/t.
The smelter's direct SEE is 1.555 tCO2e/t, the input of the domain's worked example 9.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal as D

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from cbam_portal.core.actor import Actor

from .models import (
    DataRequest,
    DataRequestEvent,
    DataRequestStatus,
    EmissionsReport,
    Installation,
    ProcessGood,
    ProductionProcess,
    SharingGrant,
)
from .see import CORR_ETA_WASTE_GAS, EF_NATURAL_GAS_TCO2_PER_TJ
from .services import installations as installation_services
from .services import reports as report_services
from .services import sharing as sharing_services

YEAR = 2026

CEMENT_PLANT = {
    "name": "Marmara Çimento Fabrikası",
    "name_en": "Marmara Cement Plant",
    "street": "Gebze Organize Sanayi Bölgesi, 1600. Sokak No: 12",
    "postcode": "41400",
    "city": "Gebze",
    "country": "TR",
    "unlocode": "TRGEB",
    "latitude": D("40.802724"),
    "longitude": D("29.439316"),
    "economic_activity": "Manufacture of cement (NACE 23.51)",
    "contact_email": "emissions@marmara-cimento.example",
}

STEELWORKS = {
    "name": "İskenderun Entegre Demir Çelik Tesisi",
    "name_en": "Iskenderun Integrated Steelworks",
    "street": "Sarıseki Mahallesi, Demir Çelik Caddesi No: 1",
    "postcode": "31319",
    "city": "İskenderun",
    "country": "TR",
    "unlocode": "TRISK",
    "latitude": D("36.715563"),
    "longitude": D("36.209481"),
    "economic_activity": "Manufacture of basic iron and steel (NACE 24.10)",
    "contact_email": "cbam@iskenderun-celik.example",
    "verifier_name": "Anatolia Verification Services A.Ş.",
    "verifier_accreditation_number": "TURKAK-AB-0421",
    "verifier_accreditation_country": "DE",
}

#: Worked example 2: one bubble process for sinter, pig iron, crude steel and the rolled products.
STEEL_PROCESS = {
    "key": "P1",
    "name": "Integrated steelworks (bubble: sinter, blast furnace, BOF, rolling)",
    "aggregated_category": "Iron or steel products",
    "route": "Blast furnace / basic oxygen furnace",
    "is_joint": True,
    "activity_level": D("4800000"),
    "direct_emissions_t_co2e": D("7866044.469878"),
    # 12 800 TJ of blast-furnace gas exported, at the natural-gas EF × 0.667 ([IR2547] Annex III A.3 Eq. 57).
    "waste_gas_exported_t_co2e": (D("12800") * EF_NATURAL_GAS_TCO2_PER_TJ * CORR_ETA_WASTE_GAS).quantize(
        D("0.000001")
    ),
    "electricity_consumed_mwh": D("1658844"),
    "electricity_ef_t_co2_per_mwh": D("0.589"),
    "electricity_ef_source": "Grid mix of Türkiye (IR 2025/2547 Annex II D.4)",
}

STEEL_GOODS = [
    ("72081000", "Hot-rolled coil, pattern in relief"),
    ("72122000", "Electrolytically zinc-coated strip"),
    ("72139120", "Wire rod for concrete reinforcement"),
    ("73021028", "Rails (Vignole), new"),
]

SMELTER = {
    "name": "مصهر الباطنة للألمنيوم الأولي",
    "name_en": "Batinah Primary Aluminium Smelter",
    "street": "Sohar Industrial Port, Plot 7/B, Way 1104",
    "postcode": "327",
    "city": "Sohar",
    "country": "OM",
    "unlocode": "OMSOH",
    "latitude": D("24.498730"),
    "longitude": D("56.612840"),
    "economic_activity": "Aluminium production (NACE 24.42)",
    "contact_email": "cbam@batinah-aluminium.example",
    "verifier_name": "Gulf Carbon Verification FZ-LLC",
    "verifier_accreditation_number": "DAkkS-D-VS-21347-01-00",
    "verifier_accreditation_country": "DE",
}

#: Prebaked-anode electrolysis and casthouse. Direct emissions (anode consumption, PFC, casthouse
#: fuel) of 590,900 tCO2e over 380,000 t give SEE direct 1.555 tCO2e/t (worked example 9). The
#: electricity comes from the smelter's own gas-fired plant; aluminium is an Annex II good, so its
#: indirect emissions are reported but do not count for the obligation ([R956] Art 7(1), Annex II).
SMELTER_PROCESS = {
    "key": "P1",
    "name": "Primary aluminium electrolysis (prebaked anodes) and casthouse",
    "aggregated_category": "Unwrought aluminium",
    "route": "Primary aluminium, electrolysis (K)",
    "activity_level": D("380000"),
    "direct_emissions_t_co2e": D("590900"),
    "electricity_consumed_mwh": D("5510000"),
    "electricity_ef_t_co2_per_mwh": D("0.418"),
    "electricity_ef_source": "Own combined-cycle gas power plant (measured)",
}

SMELTER_GOODS = [
    ("76011010", "Primary aluminium slabs, P1020 (unalloyed)"),
    ("76011090", "Primary aluminium T-bars and sows (unalloyed)"),
]

#: A one-page placeholder verification report (a real PDF header, for the file checks).
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass
class SmelterDemo:
    installation: Installation
    report: EmissionsReport
    grant: SharingGrant


@dataclass
class OperatorDemo:
    cement_plant: Installation
    steelworks: Installation
    report: EmissionsReport
    grant: SharingGrant
    data_request: DataRequest


@transaction.atomic
def seed_operator_demo(*, operator, declarant, operator_admin) -> OperatorDemo:
    """Create the operator's demo installations, its verified 2026 report shared with
    `declarant`, and an open data request from `declarant` (for the cement plant's clinker)."""
    actor = Actor(user=operator_admin)
    cement = installation_services.installation_create(actor=actor, organisation=operator, **CEMENT_PLANT)
    steel = installation_services.installation_create(actor=actor, organisation=operator, **STEELWORKS)

    report = report_services.report_create(actor=actor, installation=steel, year=YEAR)
    process = ProductionProcess.objects.create(report=report, **STEEL_PROCESS)
    ProcessGood.objects.bulk_create(
        ProcessGood(
            process=process, cn_code=cn, product_name=name, qualifying_parameters={"reducing_agent": "coke"}
        )
        for cn, name in STEEL_GOODS
    )
    report = report_services.report_submit(actor=actor, report=report)
    report = report_services.report_verify(
        actor=actor,
        report=report,
        verifier_name=STEELWORKS["verifier_name"],
        verifier_accreditation_number=STEELWORKS["verifier_accreditation_number"],
        verification_date=timezone.localdate(),
        verification_report=ContentFile(_PDF, name=f"verification-report-{YEAR}-iskenderun.pdf"),
    )
    grant = sharing_services.grant_create(actor=actor, installation=steel, declarant=declarant)

    data_request = DataRequest.objects.create(
        declarant=declarant,
        operator=operator,
        supplier_name=operator.name,
        cn_codes=["25232900", "25231000"],
        year=YEAR,
        period_start=dt.date(YEAR, 1, 1),
        period_end=dt.date(YEAR, 12, 31),
        due_date=dt.date(YEAR + 1, 3, 31),
        message=(
            "Dear supplier, for our annual CBAM declaration we need the specific embedded emissions of the "
            "Portland cement and clinker we import from your Gebze plant, ideally as a verified report."
        ),
        status=DataRequestStatus.SENT,
    )
    DataRequestEvent.objects.create(request=data_request, kind="sent", actor_label=declarant.name)
    return OperatorDemo(
        cement_plant=cement, steelworks=steel, report=report, grant=grant, data_request=data_request
    )


@transaction.atomic
def seed_smelter_demo(*, operator, declarant, operator_admin) -> SmelterDemo:
    """Create the aluminium smelter of `operator`, its 2026 report entered through the report
    services, submitted, verified and shared with `declarant`."""
    actor = Actor(user=operator_admin)
    smelter = installation_services.installation_create(actor=actor, organisation=operator, **SMELTER)
    report = report_services.report_create(actor=actor, installation=smelter, year=YEAR)
    process = report_services.process_save(actor=actor, report=report, **SMELTER_PROCESS)
    for cn, name in SMELTER_GOODS:
        report_services.good_save(
            actor=actor,
            process=process,
            cn_code=cn,
            product_name=name,
            qualifying_parameters={"scrap_t_per_t": "0", "non_aluminium_pct": "0.15"},
        )
    report = report_services.report_submit(actor=actor, report=report)
    report = report_services.report_verify(
        actor=actor,
        report=report,
        verifier_name=SMELTER["verifier_name"],
        verifier_accreditation_number=SMELTER["verifier_accreditation_number"],
        verification_date=timezone.localdate(),
        verification_report=ContentFile(_PDF, name=f"verification-report-{YEAR}-batinah.pdf"),
    )
    grant = sharing_services.grant_create(actor=actor, installation=smelter, declarant=declarant)
    return SmelterDemo(installation=smelter, report=report, grant=grant)
