"""Benchmark: exporting a large draft declaration in every format (time, peak memory, file size).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/export.py
    ... bench/export.py --lines 100000 --installations 1000 --formats json,csv
    ... bench/export.py --reuse-db cbam_bench_declaration_NNN   # a database bench/declaration.py --keep-db left

Needs PostgreSQL (DATABASE_URL names the server). Without ``--reuse-db`` it builds the data of
``bench/declaration.py`` (one importer, ``--lines`` lines across ``--installations``
installations) in a throwaway database, drafts the 2026 declaration (a draft stores no trace: the
exports derive them) and drops the database at the end. Each format is rendered the way the
export job renders it (``declarations.exports.jobs``: the document, then the exporter, then the
file stored with the job) in a process of its own, so that each peak RSS is that format's alone.
Then the draft is submitted for review, approved by a second user and filed (both timed), and
exported again, from the groups frozen at filing. With ``--reuse-db`` a draft goes the same way;
a filed declaration is only exported (the database is kept).
Prints, per format: seconds, peak RSS and the size of the file.

PDF: about 25 ms per goods group (2,419 groups: 58 s), so some twenty minutes at full size:
``--formats json,csv,xlsx`` for a quicker run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.declaration import database_url, generate, setup_django, throwaway_database  # noqa: E402

FORMATS = ("json", "csv", "xlsx", "pdf")


def export_once(url: str, db_name: str, format_key: str) -> int:
    """Run one export job of the database's first declaration in this process; print one line."""
    setup_django(url, db_name)
    from cbam_portal.core.jobs import job_run
    from cbam_portal.core.models import Job
    from declarations.exports.services import KIND
    from declarations.models import Declaration

    declaration = Declaration.objects.order_by("pk").first()
    job = Job.objects.create(
        organisation=declaration.organisation,
        created_by=declaration.prepared_by,
        kind=KIND,
        params={"declaration": declaration.pk, "format": format_key},
    )
    started = time.perf_counter()
    job_run(job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if job.status != "done":
        print(f"{format_key:<6} failed: {job.error}")
        return 1
    size_mb = job.result_file.size / 1_000_000
    print(f"{format_key:<6} {seconds:7.1f} s   peak RSS {peak_mb:6.0f} MB   file {size_mb:7.1f} MB", flush=True)
    job.result_file.delete(save=False)
    job.delete()
    return 0


def run_formats(url: str, db_name: str, formats: list[str]) -> int:
    from django.db import connections

    connections.close_all()
    failed = 0
    for format_key in formats:
        failed |= subprocess.call(
            [sys.executable, __file__, "--one", format_key, "--reuse-db", db_name], env=os.environ.copy()
        )
    return failed


def file_it(declaration) -> None:
    """Submit ``declaration`` (a draft) for review, approve it as a second user and file it, timing
    the submission (a recalculation that stores every trace) and the filing (the groups, their
    traces and the import-line fingerprint frozen)."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from cbam_portal.core.actor import Actor
    from declarations.services import declarations as services

    preparer = Actor(user=declaration.prepared_by)
    reviewer, _ = get_user_model().objects.get_or_create(email="bench-reviewer@example.com")
    started = time.perf_counter()
    declaration = services.declaration_submit_for_review(actor=preparer, declaration=declaration)
    review_s = time.perf_counter() - started
    declaration = services.declaration_approve(actor=Actor(user=reviewer), declaration=declaration)
    started = time.perf_counter()
    declaration = services.declaration_file(actor=Actor(user=reviewer), declaration=declaration)
    file_s = time.perf_counter() - started
    print(f"submit for review {review_s:6.1f} s", flush=True)
    print(f"file              {file_s:6.1f} s   ({declaration.snapshot['group_count']:,} groups frozen)", flush=True)
    connections.close_all()


def export_and_file(url: str, db_name: str, declaration, formats: list[str]) -> int:
    """Export ``declaration`` as it is; a draft is then filed and exported again."""
    print(f"Exporting the {declaration.status} declaration ({declaration.groups.count():,} groups)…", flush=True)
    failed = run_formats(url, db_name, formats)
    if declaration.status == "draft":
        print("Filing it…", flush=True)
        file_it(declaration)
        print("Exporting the filed declaration (from the groups frozen at filing)…", flush=True)
        failed |= run_formats(url, db_name, formats)
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=int(os.environ.get("LINES") or 1_000_000))
    parser.add_argument("--installations", type=int, default=int(os.environ.get("INSTALLATIONS") or 10_000))
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated, of {', '.join(FORMATS)}")
    parser.add_argument("--reuse-db", metavar="NAME", help="export the declaration of a kept benchmark database")
    parser.add_argument("--one", metavar="FORMAT", help=argparse.SUPPRESS)  # a child process: one format
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        parser.error(f"unknown format(s): {', '.join(unknown)}")

    url = database_url()
    if url is None:
        print(
            "This benchmark runs on PostgreSQL only: set DATABASE_URL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench-export",
            file=sys.stderr,
        )
        return 2
    if args.one:
        return export_once(url, args.reuse_db, args.one)
    media = tempfile.mkdtemp(prefix="cbam-bench-export-")  # the job stores its file there
    os.environ["MEDIA_ROOT"] = media
    try:
        return run(url, args, formats)
    finally:
        shutil.rmtree(media, ignore_errors=True)


def run(url: str, args, formats: list[str]) -> int:
    if args.reuse_db:
        setup_django(url, args.reuse_db)
        from declarations.models import Declaration

        declaration = Declaration.objects.select_related("prepared_by").order_by("pk").first()
        return export_and_file(url, args.reuse_db, declaration, formats)

    with throwaway_database(url, "cbam_bench_export") as db_name:
        from cbam_portal.core.actor import Actor
        from declarations.services import declarations as services

        print(f"Generating {args.lines:,} import lines across {args.installations:,} installations…", flush=True)
        made = generate(lines=args.lines, installations=args.installations, shared_share=0.4)
        declaration = services.declaration_create(actor=Actor(user=made["user"]), organisation=made["importer"], year=2026)
        return export_and_file(url, db_name, declaration, formats)


if __name__ == "__main__":
    sys.exit(main())
