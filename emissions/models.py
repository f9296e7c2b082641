"""Operator side: installations, yearly emissions reports (versioned), their processes and goods,
sharing grants with declarants, and data requests received from declarants.

Quantities are stored with more places than shown (tonnes and tCO2e: 6 decimals; SEE: full
precision, quantised to 5 decimals only for presentation, IR 2025/2547 Annex II A.1(8)).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

UNLOCODE_VALIDATOR = RegexValidator(
    r"^[A-Z]{2} ?[A-Z2-9]{3}$",
    _("A UN/LOCODE is a 2-letter country code and a 3-character location code, e.g. 'TR IST' or 'CNSHA'."),
    code="invalid_unlocode",
)
CN8_VALIDATOR = RegexValidator(r"^\d{8}$", _("A CN code has 8 digits."), code="invalid_cn")


def quantity_field(verbose_name, **kwargs):
    """Tonnes, MWh, tCO2e: 20 digits, 6 decimals."""
    return models.DecimalField(verbose_name, max_digits=20, decimal_places=6, **kwargs)


def intensity_field(verbose_name, **kwargs):
    """Per-unit values (SEE, emission factors): 20 digits, 10 decimals (shown with 5)."""
    return models.DecimalField(verbose_name, max_digits=20, decimal_places=10, **kwargs)


class Installation(models.Model):
    """A stationary technical unit of a third-country operator (Reg 2023/956 Art 3(30), Art 10(2))."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="installations")
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("post code"), max_length=20, blank=True)
    po_box = models.CharField(_("PO box"), max_length=40, blank=True)
    city = models.CharField(_("city"), max_length=120)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2"))
    unlocode = models.CharField(_("UN/LOCODE"), max_length=6, validators=[UNLOCODE_VALIDATOR])
    latitude = models.DecimalField(
        _("latitude of the main emission source"), max_digits=9, decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude of the main emission source"), max_digits=9, decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    economic_activity = models.CharField(_("main economic activity"), max_length=200, blank=True)
    registry_id = models.CharField(
        _("installation ID in the CBAM registry"), max_length=17, blank=True,
        help_text=_("When known; the transitional registry used up to 17 characters."),
    )
    representative_name = models.CharField(_("authorised representative"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    verifier_name = models.CharField(_("verifier"), max_length=200, blank=True)
    verifier_accreditation_number = models.CharField(_("verifier accreditation number"), max_length=60, blank=True)
    verifier_accreditation_country = models.CharField(_("accreditation member state"), max_length=2, blank=True)
    verifier_contact = models.CharField(_("verifier contact"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name_en or self.name


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    VERIFIED = "verified", _("Verified")
    SUPERSEDED = "superseded", _("Superseded")


class ReportSource(models.TextChoices):
    FORM = "form", _("Web form")
    TEMPLATE = "template", _("Communication template")
    API = "api", _("API")


class EmissionsReport(models.Model):
    """An installation's emissions data for one reporting year (IR 2025/2547 Art 7, Art 10).

    Version n+1 corrects version n (`supersedes`); nothing submitted is edited in place.
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="emissions_reports")
    installation = models.ForeignKey(Installation, on_delete=models.PROTECT, related_name="reports")
    year = models.PositiveSmallIntegerField(_("reporting year"), validators=[MinValueValidator(2023), MaxValueValidator(2100)])
    version = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=12, choices=ReportStatus.choices, default=ReportStatus.DRAFT, db_index=True)
    source = models.CharField(max_length=10, choices=ReportSource.choices, default=ReportSource.FORM)
    source_file = models.FileField(upload_to="emissions/templates/%Y/", blank=True)
    source_file_name = models.CharField(max_length=255, blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Verification (IR 2025/2546): who verified, with which accreditation, and the report itself.
    verified_at = models.DateTimeField(null=True, blank=True)
    verifier_name = models.CharField(max_length=200, blank=True)
    verifier_accreditation_number = models.CharField(max_length=60, blank=True)
    verification_date = models.DateField(null=True, blank=True)
    verification_report = models.FileField(upload_to="emissions/verification/%Y/", blank=True)
    verification_report_name = models.CharField(max_length=255, blank=True)
    # The last computation: when, and why it failed if it did (results are GoodResult rows).
    computed_at = models.DateTimeField(null=True, blank=True)
    computation_error = models.TextField(blank=True)

    class Meta:
        ordering = ["installation__name", "-year", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["installation", "year", "version"], name="report_installation_year_version"),
            models.UniqueConstraint(
                fields=["installation", "year"], condition=Q(status="draft"), name="report_one_draft_per_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.installation} {self.year} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status == ReportStatus.DRAFT


class ProductionProcess(models.Model):
    """One production process of the report (IR 2025/2547 Art 4, Annex III A.3 Eq. 55–58)."""

    report = models.ForeignKey(EmissionsReport, on_delete=models.CASCADE, related_name="processes")
    key = models.CharField(_("identifier"), max_length=20, help_text=_("e.g. P1"))
    name = models.CharField(_("name"), max_length=200)
    aggregated_category = models.CharField(_("aggregated goods category"), max_length=60)
    route = models.CharField(_("production route"), max_length=120, blank=True)
    is_joint = models.BooleanField(_("joint ('bubble') process"), default=False)
    activity_level = quantity_field(_("activity level"))
    activity_unit = models.CharField(_("functional unit"), max_length=20, default="t")
    direct_emissions_t_co2e = quantity_field(_("directly attributable emissions (tCO2e)"), default=0)
    heat_imported_tj = quantity_field(_("measurable heat imported (TJ)"), default=0)
    heat_imported_ef_t_co2_per_tj = intensity_field(_("EF of imported heat (tCO2/TJ)"), default=0)
    heat_exported_tj = quantity_field(_("measurable heat exported (TJ)"), default=0)
    heat_exported_ef_t_co2_per_tj = intensity_field(_("EF of exported heat (tCO2/TJ)"), default=0)
    waste_gas_imported_t_co2e = quantity_field(_("waste gases imported, correction (tCO2e)"), default=0)
    waste_gas_exported_t_co2e = quantity_field(_("waste gases exported, correction (tCO2e)"), default=0)
    electricity_consumed_mwh = quantity_field(_("electricity consumed (MWh)"), default=0)
    electricity_ef_t_co2_per_mwh = intensity_field(_("EF of consumed electricity (tCO2/MWh)"), default=0)
    electricity_ef_source = models.CharField(_("source of the electricity EF"), max_length=120, blank=True)
    electricity_produced_t_co2e = quantity_field(_("emissions of electricity produced (tCO2e)"), default=0)
    electricity_exported_mwh = quantity_field(_("electricity exported (MWh)"), default=0)
    # Values a supplier could not give: {"field": "reason"} instead of a made-up 0.
    not_available = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["report", "key"]
        constraints = [models.UniqueConstraint(fields=["report", "key"], name="process_key_unique_in_report")]

    def __str__(self) -> str:
        return f"{self.key} {self.name}"


class ProcessGood(models.Model):
    """A good (CN code) produced by a process, with its sector-specific qualifying parameters
    (IR 2025/2547 Annex IV point 2: clinker factor, N content, alloy contents, scrap share…)."""

    process = models.ForeignKey(ProductionProcess, on_delete=models.CASCADE, related_name="goods")
    cn_code = models.CharField(_("CN code"), max_length=8, validators=[CN8_VALIDATOR])
    product_name = models.CharField(_("product name"), max_length=200, blank=True)
    qualifying_parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["process", "cn_code"]
        constraints = [models.UniqueConstraint(fields=["process", "cn_code"], name="good_cn_unique_in_process")]

    def __str__(self) -> str:
        return self.cn_code


class PurchasedPrecursor(models.Model):
    """A precursor bought in and consumed by a process (IR 2025/2547 Annex III B, Eq. 59–63)."""

    process = models.ForeignKey(ProductionProcess, on_delete=models.CASCADE, related_name="purchased_precursors")
    name = models.CharField(_("name"), max_length=200)
    cn_code = models.CharField(_("CN code"), max_length=8, validators=[CN8_VALIDATOR], blank=True)
    country = models.CharField(_("country of production"), max_length=2, blank=True)
    quantity = quantity_field(_("quantity consumed"))
    see_direct = intensity_field(_("SEE direct (tCO2e/t)"))
    see_indirect = intensity_field(_("SEE indirect (tCO2e/t)"), default=0)
    electricity_mwh_per_unit = intensity_field(_("specific electricity consumption (MWh/t)"), default=0)
    is_default = models.BooleanField(_("based on default values"), default=False)

    class Meta:
        ordering = ["process", "name"]

    def __str__(self) -> str:
        return self.name


class InternalPrecursor(models.Model):
    """A precursor made by another process of the same installation and report."""

    process = models.ForeignKey(ProductionProcess, on_delete=models.CASCADE, related_name="internal_precursors")
    source_process = models.ForeignKey(ProductionProcess, on_delete=models.CASCADE, related_name="consumed_by")
    quantity = quantity_field(_("quantity consumed"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "source_process"], name="internal_precursor_unique"),
            models.CheckConstraint(condition=~Q(process=models.F("source_process")), name="internal_precursor_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} from {self.source_process_id} into {self.process_id}"


class CarbonPriceDue(models.Model):
    """Carbon price due in the country of production (Reg 2023/956 Art 9; template F_Tools)."""

    report = models.ForeignKey(EmissionsReport, on_delete=models.CASCADE, related_name="carbon_prices")
    instrument = models.CharField(_("instrument type"), max_length=120)
    legal_act = models.CharField(_("legal act"), max_length=300, blank=True)
    cn_codes = models.JSONField(default=list, blank=True)
    amount_per_t = models.DecimalField(_("carbon price due per tCO2e"), max_digits=20, decimal_places=6)
    currency = models.CharField(_("currency"), max_length=3)
    share_covered = models.DecimalField(
        _("share of emissions covered"), max_digits=7, decimal_places=6, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    rebate_per_t = models.DecimalField(_("rebate or compensation per tCO2e"), max_digits=20, decimal_places=6, default=0)
    rebate_description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["report", "pk"]

    def __str__(self) -> str:
        return f"{self.instrument} {self.amount_per_t} {self.currency}/t"


class GoodResult(models.Model):
    """The SEE of one good as the portal computed it, with its trace (and the template's own
    values when the report came from a communication template)."""

    report = models.ForeignKey(EmissionsReport, on_delete=models.CASCADE, related_name="results")
    process = models.ForeignKey(ProductionProcess, on_delete=models.CASCADE, related_name="results")
    cn_code = models.CharField(max_length=8)
    see_direct = intensity_field(_("SEE direct"))
    see_indirect = intensity_field(_("SEE indirect"))
    see_total = intensity_field(_("SEE total"))
    default_share = models.DecimalField(max_digits=12, decimal_places=10, default=0)
    embedded_electricity_mwh_per_unit = intensity_field(_("embedded electricity (MWh per unit)"), default=0)
    annex_ii = models.BooleanField(_("Annex II good (direct emissions only)"), default=False)
    see_obligation = intensity_field(_("SEE counted for the obligation"), null=True, blank=True)
    template_see_direct = intensity_field(_("template SEE direct"), null=True, blank=True)
    template_see_indirect = intensity_field(_("template SEE indirect"), null=True, blank=True)
    template_see_total = intensity_field(_("template SEE total"), null=True, blank=True)
    trace = models.JSONField(default=list)
    # Specific mass of every precursor (m_i = M_i / AL), for the declarant's free allocation
    # adjustment of complex goods ([IR2620] Annex 4, Eq. 4-5); see emissions.see.precursor_shares.
    precursors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["report", "process__key", "cn_code"]
        constraints = [models.UniqueConstraint(fields=["report", "process", "cn_code"], name="result_unique")]

    def __str__(self) -> str:
        return f"{self.cn_code}: SEE {self.see_total}"


class SharingGrant(models.Model):
    """An operator lets a declarant read an installation's submitted reports. Revocable."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="sharing_grants")
    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="grants")
    declarant = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="received_grants")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "declarant"], condition=Q(revoked_at__isnull=True), name="one_active_grant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.installation} shared with {self.declarant}"


class ReportAccess(models.Model):
    """Who of a declarant opened which shared report, and when (shown to the operator)."""

    report = models.ForeignKey(EmissionsReport, on_delete=models.CASCADE, related_name="accesses")
    declarant = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    via = models.CharField(max_length=10, default="web")

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.declarant} viewed {self.report} at {self.at:%Y-%m-%d %H:%M}"


class DataRequestStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    OPENED = "opened", _("Opened")
    ANSWERED = "answered", _("Answered")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


#: A request still waiting for the supplier: it can be answered, declined, cancelled, reminded of.
OPEN_REQUEST_STATUSES = (DataRequestStatus.SENT, DataRequestStatus.OPENED)


class DataRequest(models.Model):
    """A declarant asks a supplier (an operator, or an e-mail address not yet on the portal) for
    installation emissions data: the record of 'all possible efforts'."""

    declarant = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="data_requests_sent")
    operator = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="data_requests_received"
    )
    supplier_name = models.CharField(max_length=200)
    supplier_email = models.EmailField(blank=True)
    installation = models.ForeignKey(Installation, null=True, blank=True, on_delete=models.SET_NULL, related_name="data_requests")
    cn_codes = models.JSONField(default=list)
    year = models.PositiveSmallIntegerField()
    period_start = models.DateField()
    period_end = models.DateField()
    due_date = models.DateField()
    message = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=DataRequestStatus.choices, default=DataRequestStatus.SENT, db_index=True)
    token_hash = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_grant = models.ForeignKey(SharingGrant, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers")
    # The e-mailed link of a request to a supplier not yet on the portal: single use, it lets an
    # operator organisation claim the request into its inbox until it expires.
    token_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    # Reminder schedule: every `reminder_interval_days` (0: never) while open, at most `max_reminders`.
    reminder_interval_days = models.PositiveSmallIntegerField(default=7, validators=[MaxValueValidator(365)])
    max_reminders = models.PositiveSmallIntegerField(default=6, validators=[MaxValueValidator(52)])

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["token_hash"], name="emissions_datarequest_token")]

    def __str__(self) -> str:
        return f"Request to {self.supplier_name} for {self.year}"


class DataRequestEvent(models.Model):
    """Every step of a request: sent, reminded, opened, claimed, answered, declined, cancelled —
    kept as evidence."""

    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    #: Readable names of the steps (the stored ``kind`` stays a stable code for exports and the API).
    KIND_LABELS = {
        "sent": _("Request sent"),
        "reminded": _("Reminder sent"),
        "opened": _("Opened by the supplier"),
        "claimed": _("Claimed by the supplier's organisation"),
        "answered": _("Answered: data shared"),
        "declined": _("Declined by the supplier"),
        "cancelled": _("Cancelled by the declarant"),
    }

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def kind_label(self) -> str:
        return str(self.KIND_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize()))
