"""Admin: the large published tables are read-only (load a new dataset instead); the small tables
(CBAM factor, CSCF, certificate prices) and countries can be edited as new values are published."""

import uuid

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from cbam_portal.core.actor import Actor

from . import services
from .models import (
    Benchmark,
    CbamFactor,
    CertificatePrice,
    CnGood,
    Country,
    Cscf,
    Dataset,
    DatasetKind,
    DefaultValue,
    PrecursorDefault,
)

EDITABLE_KINDS = (DatasetKind.CBAM_FACTOR, DatasetKind.CSCF, DatasetKind.CERTIFICATE_PRICES)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows of a published dataset never change: a correction is a new dataset."""

    list_select_related = ("dataset",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "version",
        "legal_act",
        "is_current",
        "provisional",
        "row_count",
        "loaded_at",
    )
    list_filter = ("kind", "is_current", "provisional")
    search_fields = ("version", "legal_act", "source", "sha256")
    readonly_fields = ("sha256", "loaded_at", "row_count", "is_current")
    actions = ["make_current"]

    @admin.action(description=_("Make the selected dataset current for its kind"))
    def make_current(self, request, queryset):
        datasets = list(queryset)
        if len({d.kind for d in datasets}) != len(datasets):
            self.message_user(request, _("Select at most one dataset per kind."), messages.ERROR)
            return
        for dataset in datasets:
            services.dataset_make_current(dataset=dataset, actor=Actor.from_request(request))
        self.message_user(
            request, _("%(n)d dataset(s) now current.") % {"n": len(datasets)}, messages.SUCCESS
        )

    def has_delete_permission(self, request, obj=None):
        return False  # results pin dataset ids

    def save_model(self, request, obj, form, change):
        if not obj.sha256:
            # Entered by hand: no file to hash, but (kind, sha256) must stay unique.
            obj.sha256 = f"admin-{uuid.uuid4().hex}"
        super().save_model(request, obj, form, change)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.kind not in EDITABLE_KINDS:
            return [*self.readonly_fields, "kind", "legal_act", "version", "source"]
        return self.readonly_fields


class SmallTableAdmin(admin.ModelAdmin):
    list_select_related = ("dataset",)
    list_filter = ("dataset",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "dataset":
            kwargs["queryset"] = Dataset.objects.filter(kind=self.dataset_kind)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(CbamFactor)
class CbamFactorAdmin(SmallTableAdmin):
    dataset_kind = DatasetKind.CBAM_FACTOR
    list_display = ("year", "factor", "dataset")


@admin.register(Cscf)
class CscfAdmin(SmallTableAdmin):
    dataset_kind = DatasetKind.CSCF
    list_display = ("year", "value", "dataset")


@admin.register(CertificatePrice)
class CertificatePriceAdmin(SmallTableAdmin):
    dataset_kind = DatasetKind.CERTIFICATE_PRICES
    list_display = (
        "period_start",
        "period_end",
        "price_eur",
        "provisional",
        "published_on",
        "source",
        "dataset",
    )


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ("iso2", "name", "is_eu", "cbam_excluded", "exclusion_note", "default_values_name")
    list_filter = ("is_eu", "cbam_excluded")
    search_fields = ("iso2", "name", "official_name", "default_values_name")


@admin.register(CnGood)
class CnGoodAdmin(ReadOnlyAdmin):
    list_display = (
        "cn8",
        "description",
        "sector",
        "aggregated_category",
        "annex_ii_direct_only",
        "functional_unit",
    )
    list_filter = ("dataset", "sector", "annex_ii_direct_only")
    search_fields = ("cn8", "description")


@admin.register(DefaultValue)
class DefaultValueAdmin(ReadOnlyAdmin):
    list_display = (
        "country_code",
        "cn_code",
        "variant",
        "direct",
        "indirect",
        "total",
        "total_2026",
        "route",
    )
    list_filter = ("dataset",)
    search_fields = ("cn_code", "country_code", "country_name")


@admin.register(PrecursorDefault)
class PrecursorDefaultAdmin(ReadOnlyAdmin):
    list_display = ("cn_code", "description", "highest", "total_2026", "route")
    list_filter = ("dataset",)
    search_fields = ("cn_code", "description")


@admin.register(Benchmark)
class BenchmarkAdmin(ReadOnlyAdmin):
    list_display = ("cn_code", "column", "route", "production_years", "value")
    list_filter = ("dataset", "column")
    search_fields = ("cn_code",)
