"""Incremental pulls: the rows of a device's units changed after a cursor, as a SQLite changeset.

Cost grows with the number of changes: ``change_log`` is read through its ``(unit_id, seq)`` index,
one range per unit in scope plus the unscoped (global) rows, plus the rows of the tables marked
``shared_below`` in the registry (the unit chain, venues, community resources, party branches) of the
units *above* the device's unit, which its tablet may read but not edit. Each changed row goes out as an INSERT
with its current values (the tablet applies it as an upsert) or, when it was deleted or left the
device's units, as a DELETE of its key.

A page is cut to the tablet's schema version (``version``): a table newer than it is left out, a row
has only the columns that version has (new columns come last, and the server fills their defaults when
such a tablet uploads), and a row that version cannot hold (:attr:`schema.model.Table.rows_since`, e.g.
a second, dual membership of a retiree under the old UNIQUE index) goes out as a DELETE of its key. A
tablet that later migrates across such a version pulls everything again (``sync/upgrade.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import apsw

from schema import SCHEMA_VERSION
from schema.migrations import migrate
from schema.tables import synced_tables, table


@dataclass(frozen=True)
class PullPage:
    changeset: bytes
    rows: int
    next_cursor: int
    more: bool
    start: int
    """The cursor the page starts after: the one asked for, or 0 when that was not this database's."""
    mark: str = ""
    """:func:`cursor_mark` of ``next_cursor``: the tablet sends it back with that cursor."""


_SHARED = json.dumps([t.name for t in synced_tables() if t.shared_below])
"""The ``shared_below`` tables, as the pull query takes them."""


def _changed(conn: apsw.Connection, after: int, scope: tuple[str, ...], shared: tuple[str, ...],
             limit: int) -> list[tuple[int, str, str]]:
    return [
        (int(str(r[0])), str(r[1]), str(r[2]))
        for r in conn.execute(
            "SELECT seq, tbl, row_id FROM change_log WHERE seq > ?1 AND"
            " (unit_id IN (SELECT value FROM json_each(?2)) OR unit_id IS NULL"
            "  OR (unit_id IN (SELECT value FROM json_each(?4)) AND tbl IN (SELECT value FROM json_each(?5))))"
            " ORDER BY seq LIMIT ?3",
            (after, json.dumps(list(scope)), limit, json.dumps(list(shared)), _SHARED),
        ).fetchall()
    ]


def cursor_mark(conn: apsw.Connection, seq: int) -> str:
    """What identifies cursor ``seq`` in this database's history: the first 16 hex digits of the hash of
    the ledger entry that logged change ``seq`` ("" for 0 or a change this database never had). A
    database restored from an older backup numbers its new changes again from where the backup ended,
    under other ledger entries, so the same cursor gets another mark."""
    if seq <= 0:
        return ""
    row = conn.execute("SELECT l.hash FROM change_log c JOIN ledger l ON l.id = c.ledger_id WHERE c.seq = ?",
                       (seq,)).fetchone()
    return "" if row is None else str(row[0])[:16]


def _shape(version: int) -> apsw.Connection:
    """An empty tablet database at schema ``version``: what a page for that version is built against."""
    conn = apsw.Connection(":memory:")
    migrate(conn, "tablet", target=version)
    return conn


def build_page(conn: apsw.Connection, *, after: int, scope: tuple[str, ...], limit: int,
               shared: tuple[str, ...] = (), mark: str | None = None,
               version: int = SCHEMA_VERSION) -> PullPage:
    """One page of changes after ``after`` for a device whose units are ``scope`` and whose unit has the
    units ``shared`` above it (see the module docstring).

    Call inside a read transaction so the rows and the cursor agree. A cursor that is not this
    database's — its ``mark`` (:func:`cursor_mark`, sent by the tablet with the cursor) differs, or,
    without a mark, it is beyond the newest change — comes from a tablet that synced with this
    database before it was restored from a backup (or replaced): its page starts again from the
    beginning (``start`` 0), so the tablet gets every row as it is now. ``version``: the tablet's schema
    version (see the module docstring).
    """
    row = conn.execute("SELECT max(seq) FROM change_log").fetchone()
    top = int(row[0] or 0) if row else 0
    if after > top or (mark is not None and after > 0 and cursor_mark(conn, after) != mark):
        after = 0
    entries = _changed(conn, after, scope, shared, limit)
    more = len(entries) == limit
    next_cursor = entries[-1][0] if entries else max(after, 0)
    if not more:  # every in-scope change after ``after`` is here: the cursor may jump to the end
        next_cursor = max(after, top)
    latest: dict[tuple[str, str], int] = {}
    for seq, tbl, row_id in entries:
        latest[(tbl, row_id)] = seq
    builder = apsw.ChangesetBuilder()  # type: ignore[no-untyped-call]
    shape = conn if version >= SCHEMA_VERSION else _shape(version)
    builder.schema(shape, "main")
    in_scope, above = set(scope), set(shared)
    order = {t.name: i for i, t in enumerate(synced_tables())}
    rows = 0
    for (tbl, row_id), _ in sorted(latest.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[1])):
        t = table(tbl)
        if t.added_in > version:
            continue
        names = tuple(c.name for c in t.columns_at(version))
        newer = [cond for v, cond in t.rows_since if version < v]
        held = f", NOT ({' OR '.join(newer)})" if newer else ""
        got = conn.execute(f'SELECT {", ".join(chr(34) + n + chr(34) for n in names)}{held} FROM "{tbl}" WHERE id = ?',
                           (row_id,)).fetchone()
        cur = None if got is None or (newer and not got[-1]) else got[:len(names)]
        unit = None if cur is None or t.scope is None else cur[names.index(t.scope)]
        if cur is not None and (t.scope is None or unit in in_scope or (t.shared_below and unit in above)):
            builder.add_insert(tbl, False, tuple(cur))
        else:
            builder.add_delete(tbl, False, (row_id,) + (None,) * (len(names) - 1))
        rows += 1
    out = builder.output()
    builder.close()
    if shape is not conn:
        shape.close()
    return PullPage(changeset=out, rows=rows, next_cursor=next_cursor, more=more, start=after,
                    mark=cursor_mark(conn, next_cursor))
