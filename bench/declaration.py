"""Benchmark: drafting and recomputing an annual declaration over a million import lines.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/declaration.py
    ... bench/declaration.py --lines 100000 --installations 1000

Needs PostgreSQL: DATABASE_URL names the server (its database part is ignored); a throwaway
database is created there, migrated, loaded with the reference data and dropped at the end.
Generates one importer with ``--lines`` customs lines of 2026 (COPY) across ``--installations``
installations of as many operators, in many countries and CN codes; a share of the installations
(``--shared``) has a verified 2026 report shared with the importer, so both the actual-data and
the default-value paths run (a few results also carry an SEE for the obligation). Some lines have
no installation (default values by country). Then times ``declaration_create`` (first computation),
``declaration_compute`` (a recomputation replacing every group: what every change of a draft's
inputs runs) and ``declaration_submit_for_review`` (one more recalculation that stores every
group's trace, which a draft derives when asked), and prints lines, groups, actual/default groups,
queries, seconds (target: recomputation under 10 s) and peak RSS.
``BENCH_PROFILE=1`` prints a cProfile of the recomputation.

To work on the recomputation alone, keep the data of one run and recompute it again:

    ... bench/declaration.py --keep-db            # prints the database it kept
    ... bench/declaration.py --reuse-db cbam_bench_declaration_NNN --rounds 3
    psql -c 'DROP DATABASE cbam_bench_declaration_NNN'   # when done
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import random
import resource
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNTRIES = ["CN", "TR", "IN", "UA", "KR", "VN", "US", "BR", "ZA", "EG", "RS", "TW", "JP", "MY", "TH", "ID"]
MAX_CN_CODES = 40


def database_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return None
    return url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def admin_connect(url: str):
    import psycopg

    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


class QueryCounter:
    """Counts the queries run through Django's connection (without keeping their SQL)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def usable_cn_codes(rng: random.Random) -> list[str]:
    """CN codes (goods in tonnes, not electricity) that both paths can compute without a route choice."""
    from cbam_portal.reference.models import CnGood
    from declarations.assessment import AssessmentError, AssessmentInput, assess_good
    from declarations.reference_cache import ReferenceSnapshot

    goods = list(
        CnGood.objects.filter(dataset__is_current=True, functional_unit="t")
        .exclude(sector="electricity")
        .values_list("cn8", flat=True)
    )
    rng.shuffle(goods)
    snapshot = ReferenceSnapshot(cn_codes=goods, countries=COUNTRIES, years=[2026])
    usable = []
    for cn in goods:
        try:
            for country in COUNTRIES[:3]:
                base = {"cn": cn, "country": country, "mass": Decimal(1), "year": 2026, "quarter": 1}
                assess_good(AssessmentInput(**base), reference=snapshot)
                assess_good(AssessmentInput(**base, see_direct=Decimal("1.5")), reference=snapshot)
        except AssessmentError:
            continue
        usable.append(cn)
        if len(usable) >= MAX_CN_CODES:
            break
    return usable


def generate(*, lines: int, installations: int, shared_share: float, seed: int = 2026) -> dict:
    """Operators, installations, shared verified reports and import lines; returns the importer."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from cbam_portal.accounts.models import Organisation
    from emissions.models import EmissionsReport, GoodResult, Installation, ProductionProcess, SharingGrant

    rng = random.Random(seed)
    cn_codes = usable_cn_codes(rng)
    importer = Organisation.objects.create(
        kind="declarant", name="Bench Importer", country="DE", eori="DE000000000001"
    )
    user = get_user_model().objects.create_user(email="bench@example.com", password="x")
    operators = Organisation.objects.bulk_create(
        [
            Organisation(kind="operator", name=f"Operator {i}", country=COUNTRIES[i % len(COUNTRIES)])
            for i in range(installations)
        ],
        batch_size=2000,
    )
    sites = Installation.objects.bulk_create(
        [
            Installation(
                organisation=op,
                name=f"Plant {i}",
                city="City",
                country=op.country,
                unlocode=f"{op.country}XXX",
                latitude=Decimal("10.000000"),
                longitude=Decimal("20.000000"),
            )
            for i, op in enumerate(operators)
        ],
        batch_size=2000,
    )
    products: dict[int, list[str]] = {}
    for site in sites:
        goods = [rng.choice(cn_codes)]
        if rng.random() < 0.3:
            second = rng.choice(cn_codes)
            if second not in goods:
                goods.append(second)
        products[site.pk] = goods
    shared_sites = [s for s in sites if rng.random() < shared_share]
    now = timezone.now()
    reports = EmissionsReport.objects.bulk_create(
        [
            EmissionsReport(
                organisation_id=s.organisation_id,
                installation=s,
                year=2026,
                version=1,
                status="verified",
                submitted_at=now,
                verified_at=now,
            )
            for s in shared_sites
        ],
        batch_size=2000,
    )
    processes = ProductionProcess.objects.bulk_create(
        [
            ProductionProcess(
                report=r,
                key="P1",
                name="Main process",
                aggregated_category="Bench",
                activity_level=Decimal(1000),
            )
            for r in reports
        ],
        batch_size=2000,
    )
    results = []
    for report, process in zip(reports, processes, strict=True):
        for cn in products[report.installation_id]:
            direct = Decimal(rng.randint(200, 3000)) / 1000
            indirect = Decimal(rng.randint(0, 800)) / 1000
            results.append(
                GoodResult(
                    report=report,
                    process=process,
                    cn_code=cn,
                    see_direct=direct,
                    see_indirect=indirect,
                    see_total=direct + indirect,
                    see_obligation=direct + indirect / 2 if rng.random() < 0.1 else None,
                )
            )
    GoodResult.objects.bulk_create(results, batch_size=2000)
    SharingGrant.objects.bulk_create(
        [
            SharingGrant(organisation_id=s.organisation_id, installation=s, declarant=importer)
            for s in shared_sites
        ],
        batch_size=2000,
    )

    start = dt.date(2026, 1, 1)
    columns = (
        "organisation_id, mrn, line_no, released_on, cn_code, taric_code, origin_country, production_country,"
        " net_mass_tonnes, procedure, installation_id, in_scope, out_of_scope_reason, created_at"
    )
    created = now.isoformat()
    site_list = [(s.pk, s.country) for s in sites]
    with connection.cursor() as cursor:
        raw = cursor.connection.cursor()
        with raw.copy(f"COPY declarations_importline ({columns}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for i in range(lines):
                day = (start + dt.timedelta(days=rng.randrange(365))).isoformat()
                if rng.random() < 0.1:  # no installation known: default values of the country
                    site_id, country, cn = r"\N", rng.choice(COUNTRIES), rng.choice(cn_codes)
                else:
                    site_id, country = site_list[rng.randrange(len(site_list))]
                    cn = rng.choice(products[site_id])
                procedure = "returned_goods" if rng.random() < 0.005 else "free_circulation"
                buffer.write(
                    f"{importer.pk}\t26DE{i // 5:014d}\t{i % 5 + 1}\t{day}\t{cn}\t\t{country}\t{country}\t"
                    f"{rng.randint(1, 999999) / 1000:.3f}\t{procedure}\t{site_id}\tt\t\t{created}\n"
                )
                if i % 20_000 == 19_999:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        cursor.execute("ANALYZE")
    return {
        "importer": importer,
        "user": user,
        "cn_codes": len(cn_codes),
        "shared_installations": len(shared_sites),
    }


def setup_django(url: str, db_name: str) -> None:
    """Django on the benchmark database ``db_name`` of the server ``url``."""
    os.environ["DATABASE_URL"] = with_database(url, db_name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cbam_portal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


@contextlib.contextmanager
def throwaway_database(url: str, prefix: str, *, keep: bool = False) -> Iterator[str]:
    """A new database ``prefix_PID`` on the server ``url``, with Django set up on it, migrated and
    loaded with the reference data; dropped at the end unless ``keep``."""
    db_name = f"{prefix}_{os.getpid()}"
    with admin_connect(url) as admin:
        admin.execute(f'CREATE DATABASE "{db_name}"')
    try:
        setup_django(url, db_name)
        from django.core.management import call_command

        print("Migrating and loading reference data…", flush=True)
        call_command("migrate", verbosity=0)
        call_command("load_reference_data", verbosity=0)
        yield db_name
    finally:
        if not keep:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001 - cleanup must not hide the result
                pass
            with admin_connect(url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def timed_recompute(*, actor, declaration) -> tuple[float, float, int]:
    """Wall seconds, Python CPU seconds and queries of one ``declaration_compute``
    (``BENCH_PROFILE=1``: under cProfile, whose 30 costliest calls are printed)."""
    from django.db import connection

    from declarations.services import declarations as services

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started, cpu = time.perf_counter(), time.process_time()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(services.declaration_compute, actor=actor, declaration=declaration)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        else:
            services.declaration_compute(actor=actor, declaration=declaration)
        return time.perf_counter() - started, time.process_time() - cpu, counter.count


def recompute_kept(url: str, db_name: str, *, rounds: int) -> int:
    """Recompute, ``rounds`` times, the declaration of a database a ``--keep-db`` run left."""
    setup_django(url, db_name)
    from django.db import connection

    from cbam_portal.core.actor import Actor
    from declarations.models import Declaration

    declaration = Declaration.objects.order_by("pk").first()
    if declaration is None:
        print(f"{db_name} holds no declaration: keep one with --keep-db first.", file=sys.stderr)
        return 2
    actor = Actor(user=declaration.prepared_by)
    groups = declaration.groups.count()
    print(f"Recomputing the declaration of {db_name} ({groups:,} groups) {rounds} time(s)…", flush=True)
    for round_no in range(1, rounds + 1):
        seconds, cpu, queries = timed_recompute(actor=actor, declaration=declaration)
        print(
            f"recompute {round_no}        {seconds:.2f} s   {cpu:.2f} s of Python CPU   "
            f"{queries} queries   (target < 10 s)",
            flush=True,
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS           {peak_mb:.0f} MB")
    connection.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=int(os.environ.get("LINES") or 1_000_000))
    parser.add_argument("--installations", type=int, default=int(os.environ.get("INSTALLATIONS") or 10_000))
    parser.add_argument(
        "--shared", type=float, default=0.4, help="share of installations with a shared report"
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the benchmark database")
    parser.add_argument(
        "--reuse-db",
        metavar="NAME",
        help="recompute the declaration of a database kept by --keep-db (no generation, no draft; kept)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="recomputations to time with --reuse-db")
    args = parser.parse_args()
    if args.rounds != 1 and not args.reuse_db:
        parser.error("--rounds applies to --reuse-db only (a full run drafts once and recomputes once)")

    url = database_url()
    if url is None:
        print(
            "This benchmark runs on PostgreSQL only (SQLite is not what production runs): set DATABASE_URL, "
            "e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench-declaration",
            file=sys.stderr,
        )
        return 2
    if args.reuse_db:
        return recompute_kept(url, args.reuse_db, rounds=args.rounds)
    with throwaway_database(url, "cbam_bench_declaration", keep=args.keep_db) as db_name:
        try:
            return draft_and_recompute(args)
        finally:
            if args.keep_db:
                print(f"kept database      {db_name}   (--reuse-db {db_name} recomputes it again)")


def draft_and_recompute(args) -> int:
    """Generate the data, draft the declaration, recompute it and submit it; print the figures."""
    from django.db import connection

    from cbam_portal.core.actor import Actor
    from declarations.services import declarations as services

    print(
        f"Generating {args.lines:,} import lines across {args.installations:,} installations…", flush=True
    )
    started = time.perf_counter()
    made = generate(lines=args.lines, installations=args.installations, shared_share=args.shared)
    print(
        f"  {time.perf_counter() - started:.1f} s ({made['cn_codes']} CN codes, {made['shared_installations']:,} shared reports)"
    )
    actor = Actor(user=made["user"])

    counter = QueryCounter()
    print("Drafting the declaration (first computation)…", flush=True)
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        declaration = services.declaration_create(actor=actor, organisation=made["importer"], year=2026)
        create_s = time.perf_counter() - started
    create_queries = counter.count

    print("Recomputing it…", flush=True)
    compute_s, compute_cpu_s, compute_queries = timed_recompute(actor=actor, declaration=declaration)
    # Going to review recalculates once more and stores every group's trace (a draft derives
    # them when asked); then back to draft, so that a kept database can be recomputed again.
    print("Submitting it for review (traces stored)…", flush=True)
    started = time.perf_counter()
    declaration = services.declaration_submit_for_review(actor=actor, declaration=declaration)
    submit_s = time.perf_counter() - started
    services.declaration_return_to_draft(actor=actor, declaration=declaration, reason="benchmark")
    declaration.refresh_from_db()
    groups = declaration.groups.count()
    actual = declaration.groups.filter(source="actual").count()
    errors = declaration.groups.exclude(error="").count()
    lines = sum(declaration.groups.values_list("lines", flat=True))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    connection.close()
    print()
    print(f"lines              {lines:,}")
    print(
        f"installations      {args.installations:,} ({made['shared_installations']:,} with a shared report)"
    )
    print(
        f"groups             {groups:,}   ({actual:,} actual, {groups - actual:,} default, {errors:,} with an error)"
    )
    print(f"certificates       {declaration.certificates:,.3f}   cost EUR {declaration.cost_eur:,.2f}")
    print(f"create             {create_s:.2f} s   {create_queries} queries")
    print(
        f"recompute          {compute_s:.2f} s   {compute_cpu_s:.2f} s of Python CPU   "
        f"{compute_queries} queries   (target < 10 s)"
    )
    print(f"submit for review  {submit_s:.2f} s   (recalculation storing every trace)")
    print(f"peak RSS           {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
