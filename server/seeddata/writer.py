"""Fast bulk inserts into the central database, in the registry's column order.

Rows are tuples made by :func:`server.seeddata.common.row_maker`, so they are already in the
registry's column order; one prepared ``INSERT`` per table runs them with ``executemany``. The
caller owns the transaction. For a fresh file, :meth:`BulkWriter.defer_indexes` drops the domain
tables' secondary indexes and :meth:`BulkWriter.restore_indexes` rebuilds them with the registry's
own ``CREATE INDEX`` statements (a sorted build is much faster than millions of random inserts;
the UNIQUE ones are checked when rebuilt). CHECK, NOT NULL and FOREIGN KEY constraints stay on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from schema.ddl import index_sql
from schema.domain_tables import DOMAIN_TABLES
from schema.tables import table
from server.seeddata.common import Row


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def insert_sql(table_name: str) -> str:
    cols = table(table_name).column_names()
    return (f"INSERT INTO {_q(table_name)} ({', '.join(_q(c) for c in cols)}) "
            f"VALUES ({', '.join('?' for _ in cols)})")


class BulkWriter:
    """Counts and times the rows it writes; see the module docstring."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.counts: dict[str, int] = {}
        self.insert_seconds = 0.0
        self.index_seconds = 0.0
        self._sql: dict[str, str] = {}
        self._dropped: list[str] = []

    def write(self, table_name: str, rows: Sequence[Row]) -> None:
        if not rows:
            self.counts.setdefault(table_name, 0)
            return
        sql = self._sql.get(table_name)
        if sql is None:
            sql = self._sql[table_name] = insert_sql(table_name)
        t0 = time.perf_counter()
        self.conn.executemany(sql, rows)
        self.insert_seconds += time.perf_counter() - t0
        self.counts[table_name] = self.counts.get(table_name, 0) + len(rows)

    def defer_indexes(self) -> None:
        """Drop the domain tables' secondary indexes (only on a database being filled from empty)."""
        existing = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        with self.conn:
            for t in DOMAIN_TABLES:
                for stmt in index_sql(t):
                    name = stmt.split('"')[1]
                    if name in existing:
                        self.conn.execute(f"DROP INDEX {_q(name)}")
                        self._dropped.append(stmt)

    def restore_indexes(self) -> None:
        t0 = time.perf_counter()
        with self.conn:
            for stmt in self._dropped:
                self.conn.execute(stmt)
        self._dropped.clear()
        self.index_seconds += time.perf_counter() - t0

    @property
    def indexes_deferred(self) -> bool:
        """Whether secondary indexes are dropped (between defer_indexes and restore_indexes)."""
        return bool(self._dropped)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
