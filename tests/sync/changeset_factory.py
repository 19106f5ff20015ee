"""Make changesets the way other parties would: the server (pulls) and other SQLite programs."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import apsw

from schema.migrations import migrate
from schema.tables import table


def tablet_db() -> apsw.Connection:
    """An in-memory database with the tablet schema (constraints and all)."""
    conn = apsw.Connection(":memory:")
    migrate(conn, "tablet")
    return conn


def loose_db(names: Iterable[str], *, drop_last: int = 0) -> apsw.Connection:
    """Tables with the registry's column names (minus ``drop_last``) but no constraints, so rows
    with NULL in required columns can be made (as in a server DELETE that carries only the key)."""
    conn = apsw.Connection(":memory:")
    for name in names:
        t = table(name)
        cols = list(t.column_names())
        cols = cols[: len(cols) - drop_last] if drop_last else cols
        body = ", ".join(f'"{c}" PRIMARY KEY' if c == t.pk else f'"{c}"' for c in cols)
        conn.execute(f'CREATE TABLE "{name}" ({body})')
    return conn


def record(conn: apsw.Connection, tables: Iterable[str], work: Callable[[apsw.Connection], object], *,
           patchset: bool = False) -> bytes:
    """The changeset (or patchset) of what ``work`` does to ``tables`` on ``conn``."""
    session = apsw.Session(conn, "main")
    for name in tables:
        session.attach(name)
    work(conn)
    data = session.patchset() if patchset else session.changeset()
    session.close()
    return bytes(data)


def changes_by_table(changeset: bytes) -> list[tuple[str, list[str]]]:
    """A changeset's changes: per table block in order, the table and its changes (operation, indirect
    flag, old and new values, ``apsw.no_change`` shown as ``<undefined>``) sorted — the order of rows
    within a table carries no meaning (a session's follows its own hash)."""
    def shown(values: tuple[object, ...] | None) -> tuple[object, ...] | None:
        return None if values is None else tuple("<undefined>" if v is apsw.no_change else v for v in values)

    out: list[tuple[str, list[str]]] = []
    for ch in apsw.Changeset.iter(changeset):
        if not out or out[-1][0] != ch.name:
            out.append((ch.name, []))
        out[-1][1].append(repr((ch.op, ch.indirect, ch.column_count, shown(ch.old), shown(ch.new))))
    return [(name, sorted(rows)) for name, rows in out]
