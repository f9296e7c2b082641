"""Load CBAM certificate prices (the weekly prices from 2027) from a CSV file.

    manage.py load_certificate_prices PATH

The file has the columns period_start, period_end (YYYY-MM-DD), price_eur, source, published_on
and optionally provisional (yes/no). Its prices are added to those in force (the 2026 quarterly
prices stay) as a new certificate-price dataset, which becomes current; a period already in force
is replaced by the file's row. Loading the same prices again writes nothing. Draft declarations
pick the new prices up at their next recalculation; filed ones keep the dataset they used.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cbam_portal.core.actor import Actor
from cbam_portal.reference import selectors, services
from cbam_portal.reference.loaders import ReferenceDataError, schedules

_KEPT = ("period_start", "period_end", "price_eur", "source", "provisional", "published_on")


class Command(BaseCommand):
    help = "Load CBAM certificate prices (weekly from 2027) from a CSV file into a new certificate-price dataset."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="CSV file: period_start, period_end, price_eur, source, published_on"
        )

    def handle(self, *args, **options):
        _dataset, current = selectors.certificate_prices()
        keep = [{f: getattr(p, f) for f in _KEPT} for p in current]
        try:
            parsed = schedules.parse_certificate_prices_csv(options["path"], keep=keep)
        except ReferenceDataError as exc:
            raise CommandError(str(exc)) from exc
        loaded = services.dataset_load(parsed=parsed, actor=Actor.system())
        dataset = loaded.dataset
        if loaded.status == "unchanged":
            self.stdout.write(
                f"Certificate prices unchanged (dataset #{dataset.pk}, sha256 {dataset.sha256_short})."
            )
        elif loaded.status == "reactivated":
            self.stdout.write(
                self.style.WARNING(f"Earlier certificate-price dataset #{dataset.pk} is current again.")
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded {dataset.row_count} certificate prices as dataset #{dataset.pk} ({dataset.version}), "
                    "now current."
                )
            )
