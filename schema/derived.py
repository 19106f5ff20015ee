"""Keeping the derived (summary) tables of the central database: bulk loads, checks, in-place repair.

Their triggers (:mod:`schema.summary_tables`) keep them exact on every ordinary write. A bulk loader that
writes millions of rows (``laogan seed-data``) is faster with them off: :func:`drop_triggers` first, then
:func:`refill` at the end. :func:`mismatches` recomputes each one from scratch and compares. Works on apsw
and stdlib sqlite3 connections alike; the caller owns the transaction.
"""

from __future__ import annotations

from typing import Any, Protocol

from schema.ddl import create_table_sql, index_sql, populate_sql
from schema.model import Table
from schema.tables import derived_tables


class Executes(Protocol):
    def execute(self, sql: str, /) -> Any: ...


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _triggers(t: Table) -> tuple[str, ...]:
    return t.derivation.triggers if t.derivation else ()


def drop_triggers(conn: Executes) -> None:
    """Drop every derived table's triggers (they stay dropped until :func:`refill`)."""
    for t in derived_tables():
        for name in t.derivation.trigger_names() if t.derivation else ():
            conn.execute(f"DROP TRIGGER IF EXISTS {_q(name)}")


def refill(conn: Executes) -> None:
    """Recompute every derived table from scratch and (re)create its triggers."""
    drop_triggers(conn)
    for t in derived_tables():
        conn.execute(f"DELETE FROM {_q(t.name)}")
        conn.execute(populate_sql(t))
        for stmt in _triggers(t):
            conn.execute(stmt)


def mismatches(conn: Executes) -> dict[str, int]:
    """Table name -> rows that differ from a from-scratch recomputation (in either direction); only the
    tables that differ."""
    out: dict[str, int] = {}
    for t in derived_tables():
        cols = ", ".join(_q(c.name) for c in t.columns)
        select = t.derivation.select if t.derivation else ""
        have = f"SELECT {cols} FROM {_q(t.name)}"
        row = conn.execute(f"SELECT (SELECT count(*) FROM ({have} EXCEPT {select}))"
                           f" + (SELECT count(*) FROM ({select} EXCEPT {have}))").fetchone()
        if row[0]:
            out[t.name] = int(row[0])
    return out


def bring_up_to_date(conn: Executes) -> list[str]:
    """Make the derived tables, their indexes and triggers those of the registry, in place, and fill them:
    for a database that reached this schema version before they were defined (a cached benchmark file).
    A table whose definition differs is dropped and made again. Returns what it did."""
    done: list[str] = []
    have = {str(r[0]) for r in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()}
    for t in derived_tables():
        want = [create_table_sql(t, "central", t.added_in), *index_sql(t), *_triggers(t)]
        if set(want) <= have:
            continue
        for name in t.derivation.trigger_names() if t.derivation else ():
            conn.execute(f"DROP TRIGGER IF EXISTS {_q(name)}")
        conn.execute(f"DROP TABLE IF EXISTS {_q(t.name)}")
        for stmt in want[: 1 + len(t.indexes)]:
            conn.execute(stmt)
        conn.execute(populate_sql(t))
        for stmt in _triggers(t):
            conn.execute(stmt)
        done.append(f"made {t.name}")
    return done
