"""Declarant side: suppliers, import lines (customs data) and their bulk uploads.

One `ImportLine` is one line of a customs declaration as the importer recorded it: the data
customs send the Commission for each import ([R956] Art 25(2) as amended by [OMN] Art 1(21)).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

QUANTITY = {"max_digits": 20, "decimal_places": 6}


class Procedure(models.TextChoices):
    """Customs procedure of the line ([R956] Art 2(1), Art 6(3)–(5))."""

    FREE_CIRCULATION = "free_circulation", _("Release for free circulation")
    INWARD_PROCESSING = "inward_processing", _("Inward processing")
    RETURNED_GOODS = "returned_goods", _("Returned goods")
    OUTWARD_PROCESSING = "outward_processing", _("Outward processing")
    END_USE = "end_use", _("End-use (after inward processing)")


class Supplier(models.Model):
    """A supplier of imported goods as the declarant knows it (may later map to an operator)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="suppliers")
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2"))
    email = models.EmailField(_("e-mail"), blank=True)
    operator_org = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supplier_records",
        verbose_name=_("operator organisation"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name", "country"], name="declarations_supplier_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"


class ColumnMapping(models.Model):
    """How an organisation's customs extracts name their columns: {portal field: file column}."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="import_column_mappings"
    )
    name = models.CharField(_("name"), max_length=100, default="default")
    mapping = models.JSONField(_("mapping"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="declarations_columnmapping_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.name}"


class UploadFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class UploadStatus(models.TextChoices):
    MAPPING = "mapping", _("Waiting for column mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    IMPORTED = "imported", _("Imported")
    REJECTED = "rejected", _("Rejected")


class ImportUpload(models.Model):
    """One uploaded customs extract. Imported whole or not at all."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="import_uploads")
    file_name = models.CharField(_("file name"), max_length=200)
    stored_file = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    format = models.CharField(_("format"), max_length=4, choices=UploadFormat.choices)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=2, blank=True)
    columns = models.JSONField(_("columns found"), default=list, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=UploadStatus.choices, default=UploadStatus.MAPPING)
    rows_total = models.PositiveIntegerField(_("rows read"), default=0)
    rows_imported = models.PositiveIntegerField(_("lines imported"), default=0)
    rows_out_of_scope = models.PositiveIntegerField(_("lines out of scope"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    notices = models.JSONField(_("notices"), default=list, blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The same file imported twice would be the same lines twice.
            models.UniqueConstraint(
                fields=["organisation", "sha256"],
                condition=Q(status="imported"),
                name="declarations_importupload_sha256_imported_unique",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.file_name} (#{self.pk})"


class ImportLine(models.Model):
    """One customs declaration line ([R956] Art 25(2); [OMN] Art 1(21)).

    `net_mass_tonnes` for goods, `quantity_mwh` for electricity (2716 00 00); the functional-unit
    quantity (clinker contained, kg of nitrogen) where [IR2547] Art 4 needs it.
    """

    # A bulk upload writes up to millions of lines at once, so every per-row cost counts:
    # - indexes are kept to what the pages need; the unique (organisation, mrn, line_no) index serves
    #   organisation lookups, and lines are not looked up by upload in bulk;
    # - no foreign key here carries a database constraint: PostgreSQL checks each one with a query
    #   per inserted row (and queues the check even for a NULL), which cost several times the whole
    #   COPY. The services write only ids they have just read in the same transaction (the upload
    #   service locks the organisation and upload rows); deletes go through the ORM, which applies
    #   on_delete as declared.
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        related_name="import_lines",
        db_index=False,
        db_constraint=False,
    )
    upload = models.ForeignKey(
        ImportUpload,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lines",
        db_index=False,
        db_constraint=False,
    )
    mrn = models.CharField(_("customs declaration (MRN)"), max_length=18)
    line_no = models.PositiveIntegerField(_("line"))
    released_on = models.DateField(_("date of release"))
    cn_code = models.CharField(_("CN code"), max_length=8)
    taric_code = models.CharField(_("TARIC code"), max_length=10, blank=True)
    origin_country = models.CharField(_("country of origin"), max_length=2)
    production_country = models.CharField(_("country of production"), max_length=2, blank=True)
    net_mass_tonnes = models.DecimalField(_("net mass (t)"), null=True, blank=True, **QUANTITY)
    quantity_mwh = models.DecimalField(_("electricity (MWh)"), null=True, blank=True, **QUANTITY)
    supplementary_quantity = models.DecimalField(_("supplementary unit quantity"), null=True, blank=True, **QUANTITY)
    functional_unit_quantity = models.DecimalField(_("functional-unit quantity"), null=True, blank=True, **QUANTITY)
    procedure = models.CharField(_("procedure"), max_length=20, choices=Procedure.choices, default=Procedure.FREE_CIRCULATION)
    supplier = models.ForeignKey(
        Supplier,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_lines",
        db_index=False,
        db_constraint=False,
    )
    installation = models.ForeignKey(
        "emissions.Installation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_lines",
        db_index=False,
        db_constraint=False,
    )
    in_scope = models.BooleanField(_("in CBAM scope"), default=True)
    out_of_scope_reason = models.CharField(_("why out of scope"), max_length=200, blank=True)
    # The database default lets a bulk COPY leave the column out (cheaper than a value per row).
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())

    class Meta:
        ordering = ["-released_on", "mrn", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "mrn", "line_no"], name="declarations_importline_unique"),
        ]
        # No (organisation, released_on) index: with release dates in any order it cost as much
        # per inserted line as the whole rest of the write; the pages that filter by organisation
        # use the unique index above.
        indexes = [
            models.Index(fields=["supplier"], condition=Q(supplier__isnull=False), name="declarations_line_supplier"),
            models.Index(
                fields=["installation"], condition=Q(installation__isnull=False), name="declarations_line_installation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mrn}/{self.line_no}"


class SupplierInstallationMapping(models.Model):
    """'Goods from this supplier come from this installation': applied to the supplier's lines that
    have no installation yet, now (`supplier_mapping_apply`) and at ingest (`installation_for`).

    A blank `cn_code` covers every good of the supplier; a CN-specific mapping wins over it.
    Only installations shared with the declarant can be mapped ([R956] Art 10(5)).
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="supplier_installation_mappings"
    )
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="installation_mappings")
    installation = models.ForeignKey(
        "emissions.Installation", on_delete=models.CASCADE, related_name="supplier_mappings"
    )
    cn_code = models.CharField(_("CN code"), max_length=8, blank=True, help_text=_("Blank: every good of the supplier."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["supplier", "cn_code", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "cn_code"], name="declarations_suppliermapping_one_per_cn"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} → {self.installation} ({self.cn_code or '*'})"


class SupplierDataRequest(models.Model):
    """Which supplier a data request was sent to: the key of the supplier's evidence log of
    'all possible efforts' to obtain actual data (IR 2025/2547 Art 4(3))."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="data_request_links")
    data_request = models.OneToOneField(
        "emissions.DataRequest", on_delete=models.CASCADE, related_name="supplier_link"
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.supplier} – request #{self.data_request_id}"


class DataRequestDefaults(models.Model):
    """An organisation's default reminder schedule for new data requests to its suppliers."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="data_request_defaults"
    )
    reminder_interval_days = models.PositiveSmallIntegerField(_("remind every (days)"), default=7)
    max_reminders = models.PositiveSmallIntegerField(_("at most (reminders)"), default=6)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.organisation} – every {self.reminder_interval_days} days, at most {self.max_reminders}"


# --- annual declaration ----------------------------------------------------------------------


class DeclarationStatus(models.TextChoices):
    """Life of an annual CBAM declaration in the portal ([R956] Art 6 as amended by [OMN] Art 1(5))."""

    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    FILED = "filed", _("Filed")
    AMENDED = "amended", _("Amended (superseded)")


class EmissionsSource(models.TextChoices):
    ACTUAL = "actual", _("Actual (operator report)")
    DEFAULT = "default", _("Default values")


class Declaration(models.Model):
    """The annual CBAM declaration of one importer for one year ([R956] Art 6(2) as amended).

    Totals are stored at full precision; money is presented through one quantise helper. A filed
    declaration keeps a snapshot of every input and dataset version it used (``snapshot``, and its
    groups as filed in :class:`FiledGroup` rows); it changes only by being amended into the next
    version.
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="declarations")
    year = models.PositiveSmallIntegerField(_("year of import"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    status = models.CharField(
        _("status"), max_length=10, choices=DeclarationStatus.choices, default=DeclarationStatus.DRAFT, db_index=True
    )
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_for_review_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_for_review_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    filed_at = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(_("filed snapshot"), null=True, blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    computed_at = models.DateTimeField(null=True, blank=True)
    computation_error = models.TextField(blank=True)
    quantity_tonnes = models.DecimalField(_("quantity (t)"), default=0, **QUANTITY)
    embedded_t_co2e = models.DecimalField(_("embedded emissions (tCO2e)"), default=0, **QUANTITY)
    certificates = models.DecimalField(_("certificates due"), default=0, **QUANTITY)
    cost_eur = models.DecimalField(_("cost (EUR)"), default=0, max_digits=20, decimal_places=6)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year", "version"], name="declaration_unique_version")
        ]

    def __str__(self) -> str:
        return f"CBAM declaration {self.year} v{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.status in (DeclarationStatus.APPROVED, DeclarationStatus.FILED, DeclarationStatus.AMENDED)


#: The order of a declaration's goods table (and of its groups as filed).
GROUP_TABLE_ORDER = ("cn_code", "country", "quarter", "pk")


class DeclarationGroup(models.Model):
    """Imports of one good (CN code, country, installation, quarter of release) in a declaration,
    with the source of its emissions and every number of its obligation ([R956] Art 6(2), 7, 9, 31)."""

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="groups")
    cn_code = models.CharField(_("CN code"), max_length=8)
    country = models.CharField(_("country"), max_length=2)
    installation = models.ForeignKey(
        "emissions.Installation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quarter = models.PositiveSmallIntegerField(_("quarter of release"))
    #: From 2027 the group is per certificate-price period (calendar week) of release; empty for
    #: 2026 (quarterly price) and for imports whose price is not published yet.
    price_period_start = models.DateField(_("price period start"), null=True, blank=True)
    price_period_end = models.DateField(_("price period end"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=EmissionsSource.choices)
    override_source = models.CharField(
        _("source chosen by the declarant"), max_length=8, choices=EmissionsSource.choices, blank=True
    )
    override_reason = models.TextField(_("justification"), blank=True)
    report = models.ForeignKey(
        "emissions.EmissionsReport", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mass_tonnes = models.DecimalField(_("quantity (functional unit)"), default=0, **QUANTITY)
    returned_tonnes = models.DecimalField(_("returned goods (zero emissions)"), default=0, **QUANTITY)
    lines = models.PositiveIntegerField(_("import lines"), default=0)
    see_used = models.DecimalField(_("SEE used"), null=True, blank=True, **QUANTITY)
    embedded_t_co2e = models.DecimalField(_("embedded emissions (tCO2e)"), default=0, **QUANTITY)
    benchmark = models.DecimalField(_("benchmark"), null=True, blank=True, **QUANTITY)
    column = models.CharField(_("benchmark column"), max_length=1, blank=True)
    route = models.CharField(_("route"), max_length=20, blank=True)
    sefa = models.DecimalField(_("SEFA"), default=0, **QUANTITY)
    faa = models.DecimalField(_("free allocation adjustment (tCO2e)"), default=0, **QUANTITY)
    carbon_price_deduction = models.DecimalField(_("carbon price deduction (tCO2e)"), default=0, **QUANTITY)
    certificates = models.DecimalField(_("certificates due"), default=0, **QUANTITY)
    price_eur = models.DecimalField(_("certificate price (EUR)"), null=True, blank=True, max_digits=20, decimal_places=6)
    cost_eur = models.DecimalField(_("cost (EUR)"), default=0, max_digits=20, decimal_places=6)
    error = models.TextField(_("calculation error"), blank=True)
    #: The steps behind every number ("why?"). Empty (None) in a draft, where they are derived from
    #: the current inputs when asked for (:mod:`declarations.services.traces`); frozen into the
    #: group when the declaration goes to review, and kept from then on.
    trace = models.JSONField(null=True, blank=True, default=list)
    datasets = models.JSONField(default=dict)

    class Meta:
        ordering = list(GROUP_TABLE_ORDER)
        indexes = [models.Index(fields=["declaration", "cn_code"])]

    def __str__(self) -> str:
        return f"{self.cn_code} {self.country} Q{self.quarter}"

    @property
    def effective_source(self) -> str:
        return self.override_source or self.source


#: ``effective_source == ACTUAL`` in a query: actual data was found and the declarant kept it, or
#: the declarant chose it.
GROUP_USES_ACTUAL_DATA = Q(override_source=EmissionsSource.ACTUAL) | Q(override_source="", source=EmissionsSource.ACTUAL)


class FiledGroup(models.Model):
    """One goods group of a filed declaration as it was filed: its figures and dataset versions
    (``data``) and the steps behind them (``trace``), in the order of the goods table
    (``position``). These rows are the groups of the filed snapshot; the rest of it is
    :attr:`Declaration.snapshot`. A row per group rather than one JSON value: PostgreSQL keeps at
    most 256 MB in a jsonb value, which the ~7 KB of a group and its trace reach at about 37,000
    groups. Written once, when the declaration is filed; never changed."""

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="filed_groups")
    position = models.PositiveIntegerField()
    data = models.JSONField()
    trace = models.JSONField(default=list)

    class Meta:
        ordering = ["declaration", "position"]
        constraints = [
            models.UniqueConstraint(fields=["declaration", "position"], name="declarations_filed_group_position")
        ]

    def __str__(self) -> str:
        return f"{self.declaration_id}#{self.position}"


class DeclarationComment(models.Model):
    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("comment"))
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


# --- historic transitional-period quarterly reports --------------------------------------------

HISTORIC_DECIMAL = {"max_digits": 20, "decimal_places": 7}  # holds every dec16-n of QReport v17.03 exactly
COORDINATE = {"max_digits": 12, "decimal_places": 8}


class HistoricUploadStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    IMPORTED = "imported", _("Imported")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Already imported")


class HistoricReport(models.Model):
    """A transitional-period quarterly report (QReport, [R956] Art 35; IR 2023/1773) imported by
    the declarant, kept as reported: its goods and emissions pre-fill suppliers and the
    installations known from history. Imported once per organisation and file (SHA-256)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="historic_reports")
    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    report_id = models.CharField(_("report id"), max_length=40, blank=True)
    draft_report_id = models.CharField(_("draft report id"), max_length=40, blank=True)
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    submission_date = models.DateTimeField(_("submitted on"), null=True, blank=True)
    declarant_eori = models.CharField(_("declarant EORI"), max_length=40)
    declarant_name = models.CharField(_("declarant name"), max_length=200)
    importer_eori = models.CharField(_("importer EORI"), max_length=40, blank=True)
    importer_name = models.CharField(_("importer name"), max_length=200, blank=True)
    goods_count = models.PositiveIntegerField(_("imported goods"), default=0)
    emissions_count = models.PositiveIntegerField(_("installation lines"), default=0)
    imported_net_mass_total = models.DecimalField(_("net mass imported (as reported)"), default=0, **HISTORIC_DECIMAL)
    embedded_emissions_total = models.DecimalField(_("embedded emissions (as reported)"), default=0, **HISTORIC_DECIMAL)
    header_total_imported = models.PositiveIntegerField(_("TotalImported (header)"), null=True, blank=True)
    header_total_emissions = models.DecimalField(_("TotalEmissions (header)"), null=True, blank=True, **HISTORIC_DECIMAL)
    schema_validated = models.BooleanField(_("validated against the XSD"), default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # A corrected report (same ReportId, another file) replaces this one; kept for the audit trail.
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes",
        verbose_name=_("superseded by"),
    )
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        ordering = ["-year", "-quarter", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "sha256"], name="declarations_historicreport_sha256_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.year}-Q{self.quarter} {self.report_id or self.draft_report_id or self.file_name}"

    @property
    def period(self) -> str:
        return f"{self.year}-Q{self.quarter}"

    @property
    def is_superseded(self) -> bool:
        return self.superseded_by_id is not None


class HistoricReportUpload(models.Model):
    """One uploaded quarterly report file and what became of it (imported whole or not at all)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(_("file name"), max_length=200)
    stored_file = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    status = models.CharField(
        _("status"), max_length=10, choices=HistoricUploadStatus.choices, default=HistoricUploadStatus.QUEUED
    )
    problems = models.JSONField(_("problems"), default=list, blank=True)
    problem_count = models.PositiveIntegerField(_("problems found"), default=0)
    schema_validated = models.BooleanField(_("validated against the XSD"), default=False)
    report = models.ForeignKey(HistoricReport, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads")
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="declarations_hrupload_org")]

    def __str__(self) -> str:
        return f"{self.file_name} (#{self.pk})"


class HistoricInstallation(models.Model):
    """An installation as the declarant knows it from its transitional reports (not the operator's
    own record: `emissions.Installation` belongs to operators). Keyed by the reported operator id
    and installation id, which are only unique per operator."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="historic_installations")
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="historic_installations"
    )
    operator_id = models.CharField(_("operator id"), max_length=40)
    operator_name = models.CharField(_("operator name"), max_length=200)
    installation_id = models.CharField(_("installation id"), max_length=40)
    name = models.CharField(_("installation name"), max_length=200)
    economic_activity = models.CharField(_("economic activity"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    unlocode = models.CharField(_("UN/LOCODE"), max_length=10, blank=True)
    latitude = models.DecimalField(_("latitude"), null=True, blank=True, **COORDINATE)
    longitude = models.DecimalField(_("longitude"), null=True, blank=True, **COORDINATE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["operator_name", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "operator_id", "installation_id"], name="declarations_historicinstallation_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.installation_id}, {self.operator_name})"


class HistoricEmission(models.Model):
    """Emissions of one imported good attributed to one installation in a historic report
    (``ImportedGood``/``GoodsEmissions``), with the values and unit codes exactly as reported."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    report = models.ForeignKey(HistoricReport, on_delete=models.CASCADE, related_name="emissions")
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="historic_emissions")
    installation = models.ForeignKey(
        HistoricInstallation, null=True, blank=True, on_delete=models.SET_NULL, related_name="emissions"
    )
    item_number = models.PositiveIntegerField(_("item number"))
    sequence_number = models.PositiveIntegerField(_("sequence number"))
    cn_code = models.CharField(_("CN code"), max_length=8)
    description = models.CharField(_("description"), max_length=600, blank=True)
    origin_country = models.CharField(_("country of origin"), max_length=2)
    production_country = models.CharField(_("country of production"), max_length=2, blank=True)
    imported_net_mass = models.DecimalField(_("net mass imported (good)"), null=True, blank=True, **HISTORIC_DECIMAL)
    imported_unit = models.CharField(_("unit of the imported mass"), max_length=10, blank=True)
    produced_net_mass = models.DecimalField(_("net mass produced (installation)"), null=True, blank=True, **HISTORIC_DECIMAL)
    produced_unit = models.CharField(_("unit of the produced mass"), max_length=10, blank=True)
    operator_id = models.CharField(_("operator id"), max_length=40, blank=True)
    operator_name = models.CharField(_("operator name"), max_length=200, blank=True)
    installation_code = models.CharField(_("installation id"), max_length=40, blank=True)
    installation_name = models.CharField(_("installation name"), max_length=200, blank=True)
    unlocode = models.CharField(_("UN/LOCODE"), max_length=10, blank=True)
    latitude = models.DecimalField(_("latitude"), null=True, blank=True, **COORDINATE)
    longitude = models.DecimalField(_("longitude"), null=True, blank=True, **COORDINATE)
    see_direct = models.DecimalField(_("SEE direct"), null=True, blank=True, **HISTORIC_DECIMAL)
    see_indirect = models.DecimalField(_("SEE indirect"), null=True, blank=True, **HISTORIC_DECIMAL)
    see_unit = models.CharField(_("SEE unit"), max_length=10, blank=True)
    direct_determination_type = models.CharField(_("direct determination type"), max_length=10, blank=True)
    indirect_determination_type = models.CharField(_("indirect determination type"), max_length=10, blank=True)
    installation_emissions_total = models.DecimalField(
        _("installation emissions (overall)"), null=True, blank=True, **HISTORIC_DECIMAL
    )
    qualifying_params = models.JSONField(_("qualifying parameters"), default=list, blank=True)
    carbon_price_due = models.JSONField(_("carbon price due"), default=list, blank=True)
    path = models.CharField(_("location in the report"), max_length=200)

    class Meta:
        ordering = ["report", "item_number", "sequence_number", "pk"]
        indexes = [
            models.Index(fields=["organisation", "supplier"], name="declarations_hem_supplier"),
            models.Index(fields=["report", "item_number"], name="declarations_hem_item"),
        ]

    def __str__(self) -> str:
        return f"{self.cn_code} {self.installation_name or '?'} ({self.report_id})"


# --- what changed in a recalculation ----------------------------------------------------------


class ChangeTrigger(models.TextChoices):
    """What started a recalculation of a declaration."""

    MANUAL = "manual", _("Recalculation requested")
    LINES = "lines", _("Import lines changed")
    GRANT = "grant", _("Sharing grant given or revoked")
    REPORT = "report", _("Shared emissions report submitted or verified")
    REFERENCE = "reference", _("Reference dataset changed")
    OVERRIDE = "override", _("Source of emissions chosen")
    CLAIM = "claim", _("Carbon price claim recorded or withdrawn")
    CREATED = "created", _("Declaration drafted")
    REVIEW = "review", _("Submitted for review (steps of every number stored)")
    AMENDED = "amended", _("Amendment opened")
    INPUTS = "inputs", _("Inputs changed")


class DeclarationChange(models.Model):
    """One recalculation of a declaration and what it changed: per group key, the numbers before
    and after (source, quantity, SEE used, embedded emissions, certificates, cost), the groups
    added and removed, and the totals. Identical recalculations in a row share one "no change"
    row (``repeats`` counts them) instead of adding rows without content."""

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="changes")
    trigger = models.CharField(_("trigger"), max_length=10, choices=ChangeTrigger.choices)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("recalculated at"))
    last_at = models.DateTimeField(_("last identical recalculation"), null=True, blank=True)
    repeats = models.PositiveIntegerField(_("identical recalculations"), default=1)
    changed = models.BooleanField(_("something changed"), default=True)
    causes = models.JSONField(_("what moved"), default=list, blank=True)
    groups_changed = models.PositiveIntegerField(default=0)
    groups_added = models.PositiveIntegerField(default=0)
    groups_removed = models.PositiveIntegerField(default=0)
    certificates_before = models.DecimalField(_("certificates before"), default=0, **QUANTITY)
    certificates_after = models.DecimalField(_("certificates after"), default=0, **QUANTITY)
    cost_eur_before = models.DecimalField(_("cost before (EUR)"), default=0, max_digits=20, decimal_places=6)
    cost_eur_after = models.DecimalField(_("cost after (EUR)"), default=0, max_digits=20, decimal_places=6)
    differences = models.JSONField(_("differences"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["declaration", "-at"])]

    def __str__(self) -> str:
        return f"{self.declaration} recalculated {self.at:%Y-%m-%d %H:%M}"

    @property
    def certificates_delta(self):
        return self.certificates_after - self.certificates_before

    @property
    def cost_eur_delta(self):
        return self.cost_eur_after - self.cost_eur_before


# --- carbon price paid abroad ([R956] Art 9) -------------------------------------------------


class CarbonPriceCoverage(models.TextChoices):
    SHARE = "share", _("Share of the embedded emissions")
    QUANTITY = "quantity", _("Emissions covered (tCO2e)")


class CarbonPriceClaim(models.Model):
    """A declarant's claim to deduct a carbon price effectively paid in a third country for the
    goods of one declaration group ([R956] Art 9(1)–(3) as amended by [OMN] Art 1(8)).

    Keyed like an override (CN code, country, installation, quarter), so it survives every
    recalculation; applied only while the group uses actual emissions data. Amounts are per
    tCO2e in ``currency``; ``currency_per_eur`` is the yearly average exchange rate (units of the
    currency for one euro; 1 for EUR). Frozen once the declaration leaves draft.
    """

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="carbon_price_claims")
    cn_code = models.CharField(_("CN code"), max_length=8)
    country = models.CharField(_("country"), max_length=2)
    installation = models.ForeignKey(
        "emissions.Installation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quarter = models.PositiveSmallIntegerField(_("quarter of release"))
    paid_in_country = models.CharField(_("country where the price was paid"), max_length=2)
    instrument = models.CharField(_("carbon pricing instrument"), max_length=200)
    price_per_t_co2e = models.DecimalField(_("carbon price paid per tCO2e"), **QUANTITY)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    currency_per_eur = models.DecimalField(
        _("exchange rate (currency units per EUR, yearly average)"), max_digits=20, decimal_places=8, default=1
    )
    rebate_per_t_co2e = models.DecimalField(_("rebate or compensation per tCO2e"), default=0, **QUANTITY)
    coverage = models.CharField(_("coverage"), max_length=8, choices=CarbonPriceCoverage.choices)
    share_covered = models.DecimalField(
        _("share of embedded emissions covered"), null=True, blank=True, max_digits=9, decimal_places=6
    )
    covered_t_co2e = models.DecimalField(_("emissions covered (tCO2e)"), null=True, blank=True, **QUANTITY)
    certifier_name = models.CharField(_("independent certifier"), max_length=200)
    legal_act_reference = models.CharField(_("legal act of the carbon price"), max_length=300)
    payment_reference = models.CharField(_("proof of payment reference"), max_length=200)
    evidence = models.FileField(_("evidence document"), upload_to="declarations/carbon-price/%Y/", blank=True)
    evidence_name = models.CharField(max_length=255, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(_("why withdrawn"), blank=True)

    class Meta:
        ordering = ["cn_code", "country", "quarter", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["declaration", "cn_code", "country", "installation", "quarter"],
                condition=Q(withdrawn_at__isnull=True),
                name="carbon_price_claim_one_active_per_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.cn_code} {self.country} Q{self.quarter}: {self.price_per_t_co2e} {self.currency}/tCO2e"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None

    @property
    def key(self) -> tuple:
        return (self.cn_code, self.country, self.installation_id, self.quarter)
