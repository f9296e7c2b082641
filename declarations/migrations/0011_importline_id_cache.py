"""Import-line ids drawn from the sequence in blocks of 1,000 on PostgreSQL.

A bulk upload draws one id per line; with the default cache of 1 every draw takes the
sequence's lock and every 32nd writes WAL. A cache of 1,000 makes the million-line COPY about 6 %
faster (`make bench-ingest`). Ids stay unique; a connection that closes leaves the rest of its
block unused (gaps), and lines written by two connections at once are not numbered in the order
they were written — nothing orders lines by id.
"""

from django.db import migrations


def set_cache(size: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model("declarations", "ImportLine")
        quote = schema_editor.quote_name
        schema_editor.execute(f"ALTER TABLE {quote(model._meta.db_table)} ALTER COLUMN {quote('id')} SET CACHE {size}")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("declarations", "0010_historic_report_superseded"),
    ]

    operations = [
        migrations.RunPython(set_cache(1000), set_cache(1)),
    ]
