"""Database helpers shared by the apps."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection


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
