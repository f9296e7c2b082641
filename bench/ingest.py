"""Benchmark: bulk upload of import lines against a raw PostgreSQL COPY of the same file.

    .venv/bin/python bench/ingest.py                 # 1,000,000 lines (~100 MB)
    .venv/bin/python bench/ingest.py --lines 100000

Generates its own CSV, creates a throwaway PostgreSQL database (server from DATABASE_URL, default
postgres://postgres@127.0.0.1:5432), migrates it, loads the reference data, then times
(a) a raw `COPY` of the file into a plain table and (b) the portal's ingest
(`declarations.services.imports.import_upload_run`, what the upload job runs), and prints both,
the ratio (target: at most 2) and the peak RSS of this process (target: under 300 MB). The raw
COPY is run three times and its median taken. Then, as the floor of what any ingest into this
table can reach, (c) the lines the portal stored, already validated and formatted, are written to
a file and COPYed the same way into an empty copy of the table (same columns, defaults and
indexes): what is left between (c) and (b) is the portal's own reading and checking. Last, what
any design of the table would pay at the least: (d) the same lines into a typed table with no id
and no index at all, and (e) that table's unique (organisation, MRN, line) index, which the
duplicate rule needs, built once the lines are in (the cheapest way to have it). The database is
dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = "MRN;Item;Release date;CN code;Goods description;Origin;Production country;Net mass (t);Procedure\n"
DESCRIPTIONS = ["Flat-rolled products of iron, hot-rolled, in coils", "Unwrought aluminium, not alloyed", "Portland cement clinker", "Screws and bolts of steel"]
CN_CODES = ["72081000", "7208512090", "72139110", "76011010", "25231000", "31021010", "73181590", "28141000", "39011010"]
COUNTRIES = ["CN", "TR", "IN", "UA", "KR", "VN", "NO", "US"]


def generate_csv(path: Path, lines: int, seed: int = 2026) -> int:
    rng = random.Random(seed)
    start = dt.date(2026, 1, 1)
    days = max(1, (min(dt.date.today(), dt.date(2026, 12, 31)) - start).days)
    dates = [(start + dt.timedelta(days=d)).isoformat() for d in range(days)]
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        buffer = []
        for i in range(lines):
            mrn = f"26DE{i // 5:014d}"
            origin = rng.choice(COUNTRIES)
            buffer.append(
                f"{mrn};{i % 5 + 1};{rng.choice(dates)};{rng.choice(CN_CODES)};{rng.choice(DESCRIPTIONS)};{origin};"
                f"{origin if i % 7 else 'CN'};{rng.randint(1, 999999) / 1000:.3f};40 00\n"
            )
            if len(buffer) >= 10_000:
                out.write("".join(buffer))
                buffer.clear()
        out.write("".join(buffer))
    return path.stat().st_size


def server_url() -> str:
    return os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def admin_connect(url: str):
    import psycopg

    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def server_cpu_s(backend_pid: int) -> float | None:
    """CPU seconds used so far by a PostgreSQL backend running on this machine (None elsewhere)."""
    try:
        fields = Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_delta(before: float | None, after: float | None) -> str:
    return "n/a (server not on this machine)" if before is None or after is None else f"{after - before:.2f} s"


def timed_copy(conn, copy_sql: str, path: Path) -> tuple[float, str]:
    """Seconds and server CPU of streaming `path` into `copy_sql` in 1 MB writes, committed."""
    cpu_before = server_cpu_s(conn.info.backend_pid)
    started = time.perf_counter()
    with conn.cursor() as cur, cur.copy(copy_sql) as copy, path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    conn.commit()
    return time.perf_counter() - started, cpu_delta(cpu_before, server_cpu_s(conn.info.backend_pid))


def raw_copy(conninfo: str, path: Path) -> tuple[float, str]:
    import psycopg

    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE bench_raw_import (mrn text, item text, released text, cn text, description text, origin text,"
            " production text, net_mass text, procedure text)"
        )
        conn.commit()
        timing = timed_copy(conn, "COPY bench_raw_import FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';')", path)
        cur.execute("DROP TABLE bench_raw_import")
        conn.commit()
    return timing


def export_lines(conninfo: str, path: Path, columns: tuple[str, ...]) -> None:
    """Write the stored lines to `path` as the portal's COPY text."""
    import psycopg

    with psycopg.connect(conninfo) as conn, conn.cursor() as cur, path.open("wb") as out, cur.copy(
        f"COPY (SELECT {', '.join(columns)} FROM declarations_importline) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\t')"
    ) as copy:
        for data in copy:
            out.write(data)


#: Tables the stored lines are COPYed into again: an empty copy of ImportLine (the floor of this
#: schema), and a typed table with no id and no index (the floor of any schema).
FLOOR_TABLE = "CREATE TABLE bench_floor (LIKE declarations_importline INCLUDING ALL)"
BARE_TABLE = (
    "CREATE TABLE bench_floor (LIKE declarations_importline INCLUDING DEFAULTS INCLUDING CONSTRAINTS);"
    " ALTER TABLE bench_floor DROP COLUMN id"
)
BARE_UNIQUE_INDEX = "ALTER TABLE bench_floor ADD UNIQUE (organisation_id, mrn, line_no)"


def floor_copy(conninfo: str, path: Path, copy_sql: str, table_sql: str, then_sql: str = "") -> tuple[float, str, float]:
    """COPY `path` (the stored lines, as the portal formats them) into a table made by `table_sql`,
    then run `then_sql`: the COPY's seconds and server CPU, and the seconds `then_sql` took."""
    import psycopg

    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute(table_sql)
        conn.commit()
        cur.execute("CHECKPOINT")
        copy_s, server_cpu = timed_copy(conn, copy_sql.replace("declarations_importline", "bench_floor"), path)
        then_s = 0.0
        if then_sql:
            started = time.perf_counter()
            cur.execute(then_sql)
            conn.commit()
            then_s = time.perf_counter() - started
        cur.execute("DROP TABLE bench_floor")
        conn.commit()
    return copy_s, server_cpu, then_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the benchmark database")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cbam-bench-ingest-"))
    csv_path = workdir / "imports.csv"
    print(f"Generating {args.lines:,} lines…", flush=True)
    size = generate_csv(csv_path, args.lines)
    print(f"  {csv_path} ({size / 1_000_000:.1f} MB)")

    url = server_url()
    db_name = f"cbam_bench_ingest_{os.getpid()}"
    with admin_connect(url) as admin:
        admin.execute(f'CREATE DATABASE "{db_name}"')
    db_url = with_database(url, db_name)
    os.environ["DATABASE_URL"] = db_url
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ.setdefault("CBAM_MAX_UPLOAD_BYTES", str(4 * 1024**3))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cbam_portal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        import django

        django.setup()
        from django.core.files import File
        from django.core.management import call_command
        from django.db import connection

        print("Migrating and loading reference data…", flush=True)
        call_command("migrate", verbosity=0)
        call_command("load_reference_data", verbosity=0)

        from cbam_portal.accounts.models import Organisation
        from cbam_portal.core.actor import Actor
        from declarations.services.imports import import_upload_create, import_upload_run, import_upload_start

        print("(a) raw COPY into a plain table (three runs)…", flush=True)
        raw_runs = sorted((raw_copy(db_url, csv_path) for _ in range(3)), key=lambda run: run[0])
        raw_s, raw_server_cpu = raw_runs[1]
        print(f"    {', '.join(f'{run[0]:.2f}' for run in raw_runs)} s")
        with connection.cursor() as cur:
            cur.execute("CHECKPOINT")

        organisation = Organisation.objects.create(kind="declarant", name="Bench Importer", country="DE", eori="DE000000000001")
        actor = Actor.system()
        with csv_path.open("rb") as handle:
            started = time.perf_counter()
            upload = import_upload_create(actor=actor, organisation=organisation, uploaded_file=File(handle, name="imports.csv"))
            store_s = time.perf_counter() - started
        # Start without dispatching: the bench runs the job's work itself, in this process.
        from unittest import mock

        with mock.patch("cbam_portal.core.services._dispatch"):
            import_upload_start(actor=actor, organisation=organisation, upload=upload, mapping=upload.mapping)
        print("(b) portal ingest (stream-validate + COPY into ImportLine)…", flush=True)
        updates: list[int] = []  # progress reports, as the job passes them to its Job row

        def progress(done: int, total: int | None, message: str) -> None:
            updates.append(done)

        # How long the statistics refresh after the commit takes, to show it apart.
        from declarations.services import imports as imports_service

        refresh = imports_service._statistics_refresh
        refresh_s: list[float] = []

        def timed_refresh() -> None:
            started = time.perf_counter()
            refresh()
            refresh_s.append(time.perf_counter() - started)

        imports_service._statistics_refresh = timed_refresh
        connection.ensure_connection()
        cpu_before = server_cpu_s(connection.connection.info.backend_pid)
        python_cpu_before = time.process_time()
        started = time.perf_counter()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            result, rejected = profiler.runcall(import_upload_run, upload_id=upload.pk, actor=actor, progress=progress)
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(25)
        else:
            result, rejected = import_upload_run(upload_id=upload.pk, actor=actor, progress=progress)
        ingest_s = time.perf_counter() - started
        python_cpu_s = time.process_time() - python_cpu_before
        server_cpu = cpu_delta(cpu_before, server_cpu_s(connection.connection.info.backend_pid))
        if rejected is not None:
            print("    REJECTED:", result.get("errors", [])[:5])
            return 1
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM declarations_importline")
            stored = cur.fetchone()[0]
        connection.close()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("(c) floor: the stored lines COPYed again into an empty copy of the table…", flush=True)
        from declarations.ingest.validate import LINE_COLUMNS
        from declarations.services.imports import COPY_LINES_SQL

        lines_path = workdir / "floor.tsv"
        export_lines(db_url, lines_path, (*LINE_COLUMNS, "organisation_id", "upload_id"))
        floor_s, floor_server_cpu, _ = floor_copy(db_url, lines_path, COPY_LINES_SQL, FLOOR_TABLE)
        print(f"    {floor_s:.2f} s")
        print("(d, e) the same lines into a typed table with no id and no index, then its unique index…", flush=True)
        bare_s, bare_server_cpu, index_s = floor_copy(db_url, lines_path, COPY_LINES_SQL, BARE_TABLE, BARE_UNIQUE_INDEX)
        print(f"    {bare_s:.2f} s + {index_s:.2f} s")
        lines_path.unlink()
        print(f"    {ingest_s:.2f} s ({result['imported']:,} lines, {result['out_of_scope']:,} out of scope; {stored:,} in the table)")
        print()
        print(f"lines            {args.lines:,}")
        print(f"file             {size / 1_000_000:.1f} MB")
        print(f"raw COPY         {raw_s:.2f} s   (median of {', '.join(f'{run[0]:.2f}' for run in raw_runs)}; server CPU {raw_server_cpu})")
        print(f"portal ingest    {ingest_s:.2f} s   (+ {store_s:.2f} s to hash and store the upload)")
        if refresh_s:
            print(f"  of which       {sum(refresh_s):.2f} s refreshing the planner's statistics after the commit (ANALYZE)")
        print(f"  python CPU     {python_cpu_s:.2f} s   (read, check, format; in parallel with the server)")
        print(f"  server CPU     {server_cpu}   (COPY into ImportLine, its indexes, the rest of the run)")
        print(f"  progress       {len(updates)} reports")
        print(f"floor            {floor_s:.2f} s   (server CPU {floor_server_cpu}; the valid lines COPYed into the table, no reading or checking)")
        print(f"no index         {bare_s:.2f} s   (server CPU {bare_server_cpu}; the same lines into a typed table with no id and no index)")
        print(f"  + unique index {index_s:.2f} s   ((organisation, MRN, line) built after the load: {bare_s + index_s:.2f} s in all)")
        print(f"ratio            {ingest_s / raw_s:.2f}   (target <= 2.00; the floor alone is {floor_s / raw_s:.2f})")
        print(
            f"least of any     {(bare_s + index_s) / raw_s:.2f}   (typed lines and the duplicate rule's index, no reading or checking;"
            f" without the index {bare_s / raw_s:.2f})"
        )
        print(f"peak RSS         {peak_mb:.0f} MB   (target < 300 MB)")
        print(f"load average     {os.getloadavg()[0]:.2f}   (other work on the {os.cpu_count()} cores skews both timings)")
        return 0
    finally:
        if not args.keep_db:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001 - cleanup must not hide the result
                pass
            with admin_connect(url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        for path in sorted(workdir.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        workdir.rmdir()


if __name__ == "__main__":
    sys.exit(main())
