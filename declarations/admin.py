"""Admin of the declarant side: suppliers, uploads and import lines (read-mostly)."""

from django.contrib import admin

from .models import ColumnMapping, ImportLine, ImportUpload, Supplier


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "organisation", "email", "operator_org")
    list_filter = ("country",)
    search_fields = ("name", "email", "organisation__name")
    raw_id_fields = ("organisation", "operator_org")


@admin.register(ColumnMapping)
class ColumnMappingAdmin(admin.ModelAdmin):
    list_display = ("organisation", "name", "updated_at")
    raw_id_fields = ("organisation",)


@admin.register(ImportUpload)
class ImportUploadAdmin(admin.ModelAdmin):
    list_display = ("file_name", "organisation", "status", "rows_imported", "rows_rejected", "created_at")
    list_filter = ("status", "format")
    search_fields = ("file_name", "sha256", "organisation__name")
    list_select_related = ("organisation",)
    raw_id_fields = ("organisation", "job", "created_by")
    readonly_fields = [f.name for f in ImportUpload._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ImportLine)
class ImportLineAdmin(admin.ModelAdmin):
    list_display = ("mrn", "line_no", "released_on", "cn_code", "origin_country", "net_mass_tonnes", "in_scope", "organisation")
    list_filter = ("in_scope", "procedure")
    search_fields = ("mrn", "cn_code")
    list_select_related = ("organisation",)
    raw_id_fields = ("organisation", "upload", "supplier", "installation")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False
