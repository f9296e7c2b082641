"""Writes of reference data: loading a parsed publication as a new dataset, syncing countries.

Reference data is not tenant-owned: audit events carry no organisation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from cbam_portal.core.actor import Actor
from cbam_portal.core.services import audit_record

from . import countries as country_rules
from .loaders import ParsedDataset
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

ROW_MODELS = {
    DatasetKind.CN_GOODS: CnGood,
    DatasetKind.DEFAULT_VALUES: DefaultValue,
    DatasetKind.PRECURSOR_DEFAULTS: PrecursorDefault,
    DatasetKind.BENCHMARKS: Benchmark,
    DatasetKind.CBAM_FACTOR: CbamFactor,
    DatasetKind.CSCF: Cscf,
    DatasetKind.CERTIFICATE_PRICES: CertificatePrice,
}
BATCH_SIZE = 2000

#: Called on commit whenever a dataset becomes the current one of its kind, as ``hook(actor=, dataset=)``.
#: Apps that pin reference data register here (e.g. declarations recompute their drafts), so this
#: app needs to know none of them.
_CURRENT_CHANGED_HOOKS: list[Callable[..., object]] = []


def on_current_dataset_changed(hook: Callable[..., object]) -> Callable[..., object]:
    """Register ``hook(actor=, dataset=)``, run after the commit that made a dataset current."""
    if hook not in _CURRENT_CHANGED_HOOKS:
        _CURRENT_CHANGED_HOOKS.append(hook)
    return hook


@dataclass(frozen=True)
class LoadResult:
    dataset: Dataset
    status: str  # "loaded", "unchanged" or "reactivated"

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"


@transaction.atomic
def dataset_load(
    *, parsed: ParsedDataset, actor: Actor, progress: Callable[[int, int], None] | None = None
) -> LoadResult:
    """Store a parsed publication as a new dataset and make it current.

    The same file again (same SHA-256) writes nothing. An earlier publication loaded again becomes
    current again. Older datasets are never changed or deleted: results pin dataset ids
    (ARCHITECTURE §4).
    """
    model = ROW_MODELS[parsed.kind]
    existing = Dataset.objects.select_for_update().filter(kind=parsed.kind, sha256=parsed.sha256).first()
    if existing is not None:
        if existing.is_current:
            return LoadResult(existing, "unchanged")
        _make_current(existing, actor)
        audit_record(
            actor=actor, verb="reference.dataset_reactivated", target=existing, after={"kind": parsed.kind}
        )
        return LoadResult(existing, "reactivated")

    dataset = Dataset.objects.create(
        kind=parsed.kind,
        legal_act=parsed.legal_act[:200],
        version=parsed.version[:100],
        source=parsed.source[:500],
        sha256=parsed.sha256,
        provisional=parsed.provisional,
        notes=parsed.notes,
        row_count=len(parsed.rows),
    )
    total = len(parsed.rows)
    for start in range(0, total, BATCH_SIZE):
        batch = parsed.rows[start : start + BATCH_SIZE]
        model.objects.bulk_create([model(dataset=dataset, **row) for row in batch])
        if progress is not None:
            progress(min(start + BATCH_SIZE, total), total)
    _make_current(dataset, actor)
    audit_record(
        actor=actor,
        verb="reference.dataset_loaded",
        target=dataset,
        after={"kind": parsed.kind, "version": parsed.version, "sha256": parsed.sha256, "rows": total},
    )
    return LoadResult(dataset, "loaded")


@transaction.atomic
def dataset_make_current(*, dataset: Dataset, actor: Actor) -> Dataset:
    """Make `dataset` the one in force for its kind (e.g. a CBAM factor table entered in the admin)."""
    if not dataset.is_current:
        _make_current(dataset, actor)
        audit_record(
            actor=actor, verb="reference.dataset_made_current", target=dataset, after={"kind": dataset.kind}
        )
    return dataset


def _make_current(dataset: Dataset, actor: Actor) -> None:
    Dataset.objects.filter(kind=dataset.kind, is_current=True).exclude(pk=dataset.pk).update(is_current=False)
    Dataset.objects.filter(pk=dataset.pk).update(is_current=True)
    dataset.is_current = True
    for hook in list(_CURRENT_CHANGED_HOOKS):
        transaction.on_commit(lambda hook=hook: hook(actor=actor, dataset=dataset))


@dataclass(frozen=True)
class CountrySyncResult:
    created: int
    updated: int


@transaction.atomic
def countries_sync(
    *, actor: Actor, default_values_names: set[str] | frozenset[str] = frozenset()
) -> CountrySyncResult:
    """Upsert the country table: ISO 3166 (pycountry), Ceuta (XC) and Melilla (XL), the EU member
    states, and the Annex III exclusions of Regulation (EU) 2023/956.

    `default_values_names` are the country names used in the default-values tables; each must map
    to a code (an unmapped name raises `UnknownCountryError`).
    """
    import pycountry

    wanted: dict[str, dict] = {}
    for c in pycountry.countries:
        wanted[c.alpha_2] = {
            "name": getattr(c, "common_name", None) or c.name,
            "official_name": getattr(c, "official_name", "") or "",
            "cbam_excluded": False,
            "exclusion_note": "",
            "is_eu": c.alpha_2 in country_rules.EU_MEMBER_STATES,
            "default_values_name": "",
        }
    wanted["XK"] = {**_blank_country("Kosovo")}
    for territory in country_rules.ANNEX_III_TERRITORIES:
        note = f"Annex III point 1 (Reg 2023/956): {territory.name}"
        if territory.code:
            wanted[territory.code] = {
                **_blank_country(f"{territory.name} ({country_rules.country_name(territory.part_of)})"),
                "cbam_excluded": True,
                "exclusion_note": note,
            }
        parent = wanted[territory.part_of]
        part = f"{territory.name} is outside CBAM (Annex III point 1)"
        parent["exclusion_note"] = "; ".join(filter(None, [parent["exclusion_note"], part]))
    for code, note in country_rules.ANNEX_III_COUNTRIES.items():
        wanted[code]["cbam_excluded"] = True
        wanted[code]["exclusion_note"] = note
    for name in sorted(default_values_names):
        code = country_rules.country_code_for(name)
        if code in wanted:
            wanted[code]["default_values_name"] = name
            wanted[code]["name"] = name  # the short name the Commission's tables use ("Russia", "Taiwan")

    existing = {c.iso2: c for c in Country.objects.all()}
    named = {country_rules.country_code_for(name) for name in default_values_names}
    for code, current in existing.items():
        # A run that reads no default values for a country keeps what an earlier run recorded.
        if code in wanted and code not in named and current.default_values_name:
            wanted[code]["name"] = current.name
            wanted[code]["default_values_name"] = current.default_values_name
    to_create, to_update = [], []
    fields = ["name", "official_name", "cbam_excluded", "exclusion_note", "is_eu", "default_values_name"]
    for code, values in wanted.items():
        current = existing.get(code)
        if current is None:
            to_create.append(Country(iso2=code, **values))
        elif any(getattr(current, f) != values[f] for f in fields):
            for f in fields:
                setattr(current, f, values[f])
            to_update.append(current)
    Country.objects.bulk_create(to_create)
    Country.objects.bulk_update(to_update, fields)
    if to_create or to_update:
        audit_record(
            actor=actor,
            verb="reference.countries_synced",
            after={"created": len(to_create), "updated": len(to_update)},
        )
    return CountrySyncResult(created=len(to_create), updated=len(to_update))


def _blank_country(name: str) -> dict:
    return {
        "name": name,
        "official_name": "",
        "cbam_excluded": False,
        "exclusion_note": "",
        "is_eu": False,
        "default_values_name": "",
    }
