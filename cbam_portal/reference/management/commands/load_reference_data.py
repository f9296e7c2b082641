"""Load the regulatory reference datasets.

    manage.py load_reference_data
        Annex I CN list, default values, precursor defaults and benchmarks from the opencbam
        package's data files; CBAM factor, CSCF and certificate prices from reference/data/;
        the country table.
    manage.py load_reference_data --default-values-xlsx PATH --benchmarks-xlsx PATH
        A newer Commission publication from its workbooks (either option alone works too).

Loading the same file again writes nothing; a new version becomes current and older ones stay.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from cbam_portal.core.actor import Actor
from cbam_portal.reference import services
from cbam_portal.reference.countries import UnknownCountryError
from cbam_portal.reference.loaders import ReferenceDataError, opencbam, schedules, workbooks
from cbam_portal.reference.models import DatasetKind


class Command(BaseCommand):
    help = (
        "Load the CBAM reference datasets (opencbam data, small tables, countries, or Commission workbooks)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--default-values-xlsx", metavar="PATH", help="Commission workbook default_values.xlsx"
        )
        parser.add_argument("--benchmarks-xlsx", metavar="PATH", help="Commission workbook benchmarks.xlsx")
        parser.add_argument(
            "--with-builtin",
            action="store_true",
            help="Also load the built-in datasets when a workbook is given.",
        )

    def handle(self, *args, **options):
        actor = Actor.system()
        workbook_jobs = []
        if options["default_values_xlsx"]:
            workbook_jobs.append(
                (
                    DatasetKind.DEFAULT_VALUES,
                    lambda: workbooks.parse_default_values_workbook(options["default_values_xlsx"]),
                )
            )
        if options["benchmarks_xlsx"]:
            workbook_jobs.append(
                (
                    DatasetKind.BENCHMARKS,
                    lambda: workbooks.parse_benchmarks_workbook(options["benchmarks_xlsx"]),
                )
            )
        jobs = []
        if not workbook_jobs or options["with_builtin"]:
            jobs += [(kind, parser) for kind, parser in opencbam.PARSERS.items()]
            jobs += [(kind, parser) for kind, parser in schedules.PARSERS.items()]
        jobs += workbook_jobs

        country_names: set[str] = set()
        parsed_all = []
        # Parse everything first: a broken input stops the run before anything is written.
        for kind, parser in jobs:
            started = time.monotonic()
            self.stdout.write(f"{DatasetKind(kind).label}: reading…", ending=" ")
            self.stdout.flush()
            try:
                parsed = parser()
            except ReferenceDataError as exc:
                self.stdout.write(self.style.ERROR("failed"))
                raise CommandError(f"{DatasetKind(kind).label}: {exc}") from exc
            parsed_all.append(parsed)
            if kind == DatasetKind.DEFAULT_VALUES:
                country_names |= {row["country_name"] for row in parsed.rows}
            skipped = f", {parsed.skipped} heading rows skipped" if parsed.skipped else ""
            self.stdout.write(f"{len(parsed.rows)} rows{skipped} ({time.monotonic() - started:.1f}s)")

        try:
            result = services.countries_sync(actor=actor, default_values_names=country_names)
        except UnknownCountryError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Countries: {result.created} created, {result.updated} updated")

        for parsed in parsed_all:
            label = DatasetKind(parsed.kind).label
            started = time.monotonic()
            loaded = services.dataset_load(parsed=parsed, actor=actor)
            dataset = loaded.dataset
            if loaded.status == "unchanged":
                message = self.style.NOTICE(
                    f"unchanged (dataset #{dataset.pk}, sha256 {dataset.sha256_short})"
                )
            elif loaded.status == "reactivated":
                message = self.style.WARNING(f"earlier dataset #{dataset.pk} is current again")
            else:
                message = self.style.SUCCESS(
                    f"loaded {dataset.row_count} rows as dataset #{dataset.pk} "
                    f"({dataset.version}, sha256 {dataset.sha256_short}), now current "
                    f"({time.monotonic() - started:.1f}s)"
                )
            self.stdout.write(f"{label}: {message}")
