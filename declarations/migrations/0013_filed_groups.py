"""Filed groups as rows: the groups of each filed snapshot move out of its JSON value into
FiledGroup rows (same content, same order); the snapshot keeps their number."""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 1000


def groups_to_rows(apps, schema_editor):
    Declaration = apps.get_model("declarations", "Declaration")
    FiledGroup = apps.get_model("declarations", "FiledGroup")
    for declaration in Declaration.objects.filter(snapshot__isnull=False).iterator(chunk_size=100):
        snapshot = dict(declaration.snapshot or {})
        if "groups" not in snapshot:
            continue
        groups = snapshot.pop("groups") or []
        rows = []
        for position, group in enumerate(groups):
            data = {k: v for k, v in group.items() if k != "trace"}
            rows.append(FiledGroup(declaration=declaration, position=position, data=data, trace=group.get("trace") or []))
        FiledGroup.objects.bulk_create(rows, batch_size=BATCH)
        snapshot["group_count"] = len(groups)
        Declaration.objects.filter(pk=declaration.pk).update(snapshot=snapshot)


def rows_to_groups(apps, schema_editor):
    Declaration = apps.get_model("declarations", "Declaration")
    FiledGroup = apps.get_model("declarations", "FiledGroup")
    for declaration in Declaration.objects.filter(snapshot__isnull=False).iterator(chunk_size=100):
        snapshot = dict(declaration.snapshot or {})
        rows = FiledGroup.objects.filter(declaration=declaration).order_by("position")
        snapshot["groups"] = [{**row.data, "trace": row.trace} for row in rows]
        snapshot.pop("group_count", None)
        Declaration.objects.filter(pk=declaration.pk).update(snapshot=snapshot)


class Migration(migrations.Migration):

    dependencies = [
        ("declarations", "0012_group_trace_derived_in_drafts"),
    ]

    operations = [
        migrations.CreateModel(
            name="FiledGroup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveIntegerField()),
                ("data", models.JSONField()),
                ("trace", models.JSONField(default=list)),
                ("declaration", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="filed_groups", to="declarations.declaration")),
            ],
            options={
                "ordering": ["declaration", "position"],
                "constraints": [models.UniqueConstraint(fields=("declaration", "position"), name="declarations_filed_group_position")],
            },
        ),
        migrations.RunPython(groups_to_rows, rows_to_groups),
    ]
