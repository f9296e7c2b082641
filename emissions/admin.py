"""Admin: operator data is read-only here. Every change goes through the services, which check the
rules (drafts only, Annex I, tenancy) and write the audit trail; the admin is for looking."""

from django.contrib import admin

from .models import (
    CarbonPriceDue,
    DataRequest,
    DataRequestEvent,
    EmissionsReport,
    GoodResult,
    Installation,
    ProcessGood,
    ProductionProcess,
    SharingGrant,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    show_change_link = True


@admin.register(Installation)
class InstallationAdmin(ReadOnlyAdmin):
    list_display = ("name", "organisation", "country", "unlocode", "registry_id", "updated_at")
    list_filter = ("country",)
    search_fields = ("name", "name_en", "unlocode", "registry_id", "organisation__name")
    list_select_related = ("organisation",)


class ProcessInline(ReadOnlyInline):
    model = ProductionProcess
    fields = (
        "key",
        "name",
        "aggregated_category",
        "activity_level",
        "direct_emissions_t_co2e",
        "not_available",
    )


class CarbonPriceInline(ReadOnlyInline):
    model = CarbonPriceDue
    fields = ("instrument", "amount_per_t", "currency", "share_covered")


class GoodResultInline(ReadOnlyInline):
    model = GoodResult
    fields = ("process", "cn_code", "see_direct", "see_indirect", "see_total", "default_share")


@admin.register(EmissionsReport)
class EmissionsReportAdmin(ReadOnlyAdmin):
    list_display = ("installation", "year", "version", "status", "source", "submitted_at", "organisation")
    list_filter = ("status", "year", "source")
    search_fields = ("installation__name", "organisation__name")
    list_select_related = ("installation", "organisation")
    inlines = [ProcessInline, CarbonPriceInline, GoodResultInline]


class GoodInline(ReadOnlyInline):
    model = ProcessGood
    fields = ("cn_code", "product_name", "qualifying_parameters")


@admin.register(ProductionProcess)
class ProductionProcessAdmin(ReadOnlyAdmin):
    list_display = ("key", "name", "report", "activity_level")
    search_fields = ("name", "report__installation__name")
    list_select_related = ("report__installation",)
    inlines = [GoodInline]


@admin.register(SharingGrant)
class SharingGrantAdmin(ReadOnlyAdmin):
    list_display = ("installation", "declarant", "granted_at", "revoked_at")
    list_select_related = ("installation", "declarant")


class DataRequestEventInline(ReadOnlyInline):
    model = DataRequestEvent
    show_change_link = False


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdmin):
    list_display = ("supplier_name", "declarant", "operator", "year", "due_date", "status")
    list_filter = ("status", "year")
    list_select_related = ("declarant", "operator")
    inlines = [DataRequestEventInline]
