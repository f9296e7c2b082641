"""Declaration group traces and dataset lists compressed with LZ4 on PostgreSQL.

A recomputation rewrites every group of a declaration (tens of thousands of rows of a few
kilobytes of JSON each): LZ4 compresses and decompresses them several times faster than the
default pglz. Only where the server supports it (PostgreSQL 14+ built with LZ4); the content is
the same either way.
"""

from django.db import migrations

COLUMNS = ("trace", "datasets")


def compression_settable(schema_editor) -> bool:
    connection = schema_editor.connection
    return connection.vendor == "postgresql" and connection.pg_version >= 140000


def lz4_available(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        row = cursor.fetchone()
    return bool(row and "lz4" in (row[0] or []))


def set_compression(method: str):
    def apply(apps, schema_editor):
        if not compression_settable(schema_editor) or (method == "lz4" and not lz4_available(schema_editor)):
            return
        model = apps.get_model("declarations", "DeclarationGroup")
        quote = schema_editor.quote_name
        for name in COLUMNS:
            column = model._meta.get_field(name).column
            schema_editor.execute(
                f"ALTER TABLE {quote(model._meta.db_table)} ALTER COLUMN {quote(column)} SET COMPRESSION {method}"
            )

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("declarations", "0008_importline_lean_bulk_write"),
    ]

    operations = [
        migrations.RunPython(set_compression("lz4"), set_compression("default")),
    ]
