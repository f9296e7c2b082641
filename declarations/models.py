"""Declarant side: suppliers, import lines (customs data) and their bulk uploads.

One `ImportLine` is one line of a customs declaration as the importer recorded it: the data
customs send the Commission for each import ([R956] Art 25(2) as amended by [OMN] Art 1(21)).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-released_on", "mrn", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "mrn", "line_no"], name="declarations_importline_unique"),
        ]
        indexes = [
            models.Index(fields=["organisation", "released_on"], name="declarations_line_org_date"),
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
    declaration keeps a snapshot of every input and dataset version it used; it changes only by
    being amended into the next version.
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
    trace = models.JSONField(default=list)
    datasets = models.JSONField(default=dict)

    class Meta:
        ordering = ["cn_code", "country", "quarter", "pk"]
        indexes = [models.Index(fields=["declaration", "cn_code"])]

    def __str__(self) -> str:
        return f"{self.cn_code} {self.country} Q{self.quarter}"

    @property
    def effective_source(self) -> str:
        return self.override_source or self.source


class DeclarationComment(models.Model):
    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("comment"))
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]
