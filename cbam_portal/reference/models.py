"""Versioned regulatory reference data.

Every table that comes from a publication hangs off a `Dataset`: loading a newer publication
adds a new dataset and moves `is_current`, it never changes or deletes the rows of an older one,
so results that pinned a dataset id keep their inputs (ARCHITECTURE §4).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .codes import OTHER_COUNTRIES

VALUE = {"max_digits": 20, "decimal_places": 6}


class DatasetKind(models.TextChoices):
    CN_GOODS = "cn_goods", _("CBAM goods (Annex I CN list)")
    DEFAULT_VALUES = "default_values", _("Default values (IR 2025/2621 Annex I)")
    PRECURSOR_DEFAULTS = "precursor_defaults", _("Precursor default values (IR 2025/2621)")
    BENCHMARKS = "benchmarks", _("CBAM benchmarks (IR 2025/2620)")
    CBAM_FACTOR = "cbam_factor", _("CBAM factor schedule")
    CSCF = "cscf", _("Cross-sectoral correction factor")
    CERTIFICATE_PRICES = "certificate_prices", _("CBAM certificate prices")


class Dataset(models.Model):
    """One loaded publication of one kind of reference table."""

    kind = models.CharField(_("kind"), max_length=30, choices=DatasetKind.choices)
    legal_act = models.CharField(_("legal act"), max_length=200)
    version = models.CharField(_("version"), max_length=100)
    source = models.CharField(_("source"), max_length=500)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)
    is_current = models.BooleanField(_("current"), default=False)
    provisional = models.BooleanField(
        _("provisional"), default=False, help_text=_("Only secondary sources confirm some values.")
    )
    notes = models.TextField(_("notes and attribution"), blank=True)
    row_count = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        ordering = ["kind", "-loaded_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "sha256"], name="reference_dataset_kind_sha256_unique"),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(is_current=True), name="reference_dataset_one_current_per_kind"
            ),
        ]
        indexes = [models.Index(fields=["kind", "is_current"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version} (#{self.pk})"

    @property
    def sha256_short(self) -> str:
        return self.sha256[:12]


class Sector(models.TextChoices):
    CEMENT = "cement", _("Cement")
    ELECTRICITY = "electricity", _("Electricity")
    FERTILISERS = "fertilisers", _("Fertilisers")
    IRON_STEEL = "iron_steel", _("Iron and steel")
    ALUMINIUM = "aluminium", _("Aluminium")
    HYDROGEN = "hydrogen", _("Hydrogen")


class CnGood(models.Model):
    """A CN code listed in Annex I of Regulation (EU) 2023/956."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="cn_goods")
    cn8 = models.CharField(_("CN code"), max_length=8)
    description = models.TextField(_("description"), blank=True)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    aggregated_category = models.CharField(_("aggregated goods category"), max_length=100)
    annex_ii_direct_only = models.BooleanField(_("Annex II (direct emissions only)"), default=False)
    functional_unit = models.CharField(_("functional unit"), max_length=20)
    ghg = models.CharField(_("greenhouse gases"), max_length=100, blank=True)

    class Meta:
        ordering = ["cn8"]
        constraints = [models.UniqueConstraint(fields=["dataset", "cn8"], name="reference_cngood_unique")]
        indexes = [models.Index(fields=["dataset", "sector"])]

    def __str__(self) -> str:
        return f"{self.cn8_display} {self.description[:60]}"

    @property
    def cn8_display(self) -> str:
        return f"{self.cn8[:4]} {self.cn8[4:6]} {self.cn8[6:8]}"


class DefaultValue(models.Model):
    """A default value row of IR 2025/2621 Annex I for one country and one keyed CN code.

    `cn_code` is kept as keyed in the Annex (4, 6 or 8 digits) and matched by longest prefix.
    Values are tCO2e per functional unit; `None` means "–" in the Annex (use "Other countries
    and territories"), except `indirect` which is also `None` when `indirect_applicable` is
    False ("N/A": an Annex II good, direct emissions only).
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="default_values")
    country_code = models.CharField(
        _("country"),
        max_length=2,
        help_text=_('ISO 3166 alpha-2, or "%s" for "Other countries and territories".') % OTHER_COUNTRIES,
    )
    country_name = models.CharField(_("country name (as published)"), max_length=100)
    cn_code = models.CharField(_("CN code (as keyed)"), max_length=8)
    description = models.TextField(_("description"), blank=True)
    sector = models.CharField(_("sector"), max_length=40, blank=True)
    variant = models.CharField(_("variant"), max_length=60, blank=True)
    route = models.CharField(_("production route"), max_length=10, blank=True)
    direct = models.DecimalField(_("direct (tCO2e/unit)"), null=True, blank=True, **VALUE)
    indirect = models.DecimalField(_("indirect (tCO2e/unit)"), null=True, blank=True, **VALUE)
    indirect_applicable = models.BooleanField(_("indirect applicable"), default=True)
    total = models.DecimalField(_("total (tCO2e/unit)"), null=True, blank=True, **VALUE)
    total_2026 = models.DecimalField(_("2026 incl. mark-up"), null=True, blank=True, **VALUE)
    total_2027 = models.DecimalField(_("2027 incl. mark-up"), null=True, blank=True, **VALUE)
    total_2028_onwards = models.DecimalField(_("2028 onwards incl. mark-up"), null=True, blank=True, **VALUE)

    class Meta:
        ordering = ["country_name", "cn_code", "variant"]
        indexes = [
            models.Index(fields=["dataset", "country_code", "cn_code"]),
            models.Index(fields=["dataset", "cn_code"]),
        ]

    def __str__(self) -> str:
        return f"{self.country_code} {self.cn_code} {self.variant}".strip()

    @property
    def has_values(self) -> bool:
        return self.total is not None


class PrecursorDefault(models.Model):
    """Highest default value of a precursor across countries, as published with IR 2025/2621."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="precursor_defaults")
    cn_code = models.CharField(_("CN code (as keyed)"), max_length=8)
    description = models.TextField(_("description"), blank=True)
    sector = models.CharField(_("sector"), max_length=40, blank=True)
    route = models.CharField(_("production route"), max_length=10, blank=True)
    highest = models.DecimalField(_("highest default value"), null=True, blank=True, **VALUE)
    total_2026 = models.DecimalField(_("2026 incl. mark-up"), null=True, blank=True, **VALUE)
    total_2027 = models.DecimalField(_("2027 incl. mark-up"), null=True, blank=True, **VALUE)
    total_2028_onwards = models.DecimalField(_("2028 onwards incl. mark-up"), null=True, blank=True, **VALUE)

    class Meta:
        ordering = ["cn_code", "description"]
        indexes = [models.Index(fields=["dataset", "cn_code"])]

    def __str__(self) -> str:
        return f"{self.cn_code} {self.description[:40]}"


class BenchmarkColumn(models.TextChoices):
    A = "A", _("Column A (actual data)")
    B = "B", _("Column B (default values)")


class ProductionYears(models.TextChoices):
    ALL = "", _("All years")
    Y2026_2027 = "2026-2027", _("2026–2027")
    Y2028_2030 = "2028-2030", _("2028–2030")


class Benchmark(models.Model):
    """A CBAM benchmark of IR 2025/2620 Annex (tCO2e per tonne), per column and route."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="benchmarks")
    cn_code = models.CharField(_("CN code"), max_length=8)
    description = models.TextField(_("description"), blank=True)
    sector = models.CharField(_("sector"), max_length=40, blank=True)
    column = models.CharField(_("column"), max_length=1, choices=BenchmarkColumn.choices)
    route = models.CharField(_("production route"), max_length=10, blank=True)
    production_years = models.CharField(
        _("production years"), max_length=9, choices=ProductionYears.choices, blank=True, default=""
    )
    value = models.DecimalField(_("benchmark (tCO2e/t)"), **VALUE)

    class Meta:
        ordering = ["cn_code", "column", "production_years", "route", "pk"]
        indexes = [models.Index(fields=["dataset", "cn_code"])]

    def __str__(self) -> str:
        return f"{self.cn_code} {self.column} {self.route} {self.value}"


class CbamFactor(models.Model):
    """CBAM factor: share of free allocation still granted, Directive 2003/87/EC Art 10a(1a)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="cbam_factors")
    year = models.PositiveSmallIntegerField(_("year"))
    factor = models.DecimalField(_("factor"), max_digits=8, decimal_places=6)

    class Meta:
        ordering = ["year"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "year"], name="reference_cbamfactor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.factor}"


class Cscf(models.Model):
    """Cross-sectoral correction factor of the year (Art 10a(5) Directive 2003/87/EC)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="cscf_values")
    year = models.PositiveSmallIntegerField(_("year"))
    value = models.DecimalField(_("value"), max_digits=8, decimal_places=6)

    class Meta:
        ordering = ["year"]
        verbose_name = _("CSCF")
        verbose_name_plural = _("CSCF values")
        constraints = [models.UniqueConstraint(fields=["dataset", "year"], name="reference_cscf_unique")]

    def __str__(self) -> str:
        return f"{self.year}: {self.value}"


class CertificatePrice(models.Model):
    """Price of one CBAM certificate for a period (Art 21 Regulation (EU) 2023/956)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="certificate_prices")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    price_eur = models.DecimalField(_("price (EUR)"), max_digits=12, decimal_places=2)
    source = models.CharField(_("source"), max_length=300, blank=True)
    provisional = models.BooleanField(_("provisional"), default=False)
    published_on = models.DateField(_("published on"), null=True, blank=True)

    class Meta:
        ordering = ["period_start"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "period_start"], name="reference_certprice_unique"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="reference_certprice_period_order"
            ),
        ]
        indexes = [models.Index(fields=["dataset", "period_start", "period_end"])]

    def __str__(self) -> str:
        return f"{self.period_start}–{self.period_end}: {self.price_eur} EUR"


class Country(models.Model):
    """A country or customs territory of origin, with its Annex III status (Reg 2023/956)."""

    iso2 = models.CharField(_("code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    official_name = models.CharField(_("official name"), max_length=200, blank=True)
    cbam_excluded = models.BooleanField(
        _("outside CBAM (Annex III)"),
        default=False,
        help_text=_("Regulation (EU) 2023/956 Annex III point 1."),
    )
    exclusion_note = models.CharField(_("note"), max_length=300, blank=True)
    is_eu = models.BooleanField(_("EU member state"), default=False)
    default_values_name = models.CharField(_("name in the default-values tables"), max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("countries")

    def __str__(self) -> str:
        return f"{self.name} ({self.iso2})"
