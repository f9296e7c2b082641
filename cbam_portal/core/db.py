"""Database helpers shared by the apps."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection, transaction


@contextlib.contextmanager
def postgresql_settings(**settings: str) -> Iterator[None]:
    """Within a transaction on PostgreSQL, run the queries of the block with ``settings`` (such as
    ``work_mem="64MB"``, ``jit="off"``), then put them back as they were for the rest of the
    transaction (should a query fail, the transaction is rolled back, and the settings with it).
    Elsewhere, or outside a transaction, the block runs as it is."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block or not settings:
        yield
        return
    names = list(settings)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join("current_setting(%s), set_config(%s, %s, true)" for _ in names),
            [value for name in names for value in (name, name, settings[name])],
        )
        previous = cursor.fetchone()[0::2]
        yield
        cursor.execute(
            "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in names),
            [value for name, was in zip(names, previous, strict=True) for value in (name, was)],
        )


@contextlib.contextmanager
def one_snapshot() -> Iterator[None]:
    """Run the block's reads in one transaction that sees the database as it was when the block
    began (PostgreSQL's REPEATABLE READ, read only): a report built from many queries stays
    consistent while other transactions commit. Inside a transaction already (tests), or
    elsewhere, the block runs in a transaction as it is."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
