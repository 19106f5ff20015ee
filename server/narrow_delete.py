"""A DELETE from a tablet one schema version behind: its changeset has fewer columns than the table.

SQLite's changeset apply compares only the columns a change carries, so such a DELETE would remove a
row whose newer columns (``party_members.relation``/``group_id``, ``three_musts.notice_id``) the server
or a newer tablet has set — an edit the older tablet never saw — with no conflict. Here the DELETE is
read as carrying the newer columns' defaults (what the older tablet's row stands for, and what
``sqlite3changegroup_schema`` fills in): a row whose newer columns are not all at their defaults is a
``deleted_after_edit`` conflict, the row kept. The known columns stay SQLite's to compare.

Only a changeset narrower than its table is looked at: a full-width one is applied exactly as before,
at the cost of one test of the plan's ``full_width`` (or, on the apply's ordinary path, which has no
plan, one pass over the changeset: :func:`may_narrow_delete`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import apsw

from schema import SCHEMA_VERSION
from schema.tables import table as registry_table
from schema.tables import uploadable_tables

_WIDTH = {t.name: sum(1 for c in t.columns if c.added_in <= SCHEMA_VERSION) for t in uploadable_tables()}
"""Columns of each uploadable table in the central database (the registry's, up to this version)."""

def may_narrow_delete(changeset: bytes) -> bool:
    """True when the changeset may hold a DELETE narrower than its table (one pass over it; the apply
    asks only when it has no plan, whose ``full_width`` says the same)."""
    try:
        for ch in apsw.Changeset.iter(changeset):
            if ch.op == "DELETE" and ch.column_count < _WIDTH.get(ch.name, 0):
                return True
    except (apsw.Error, ValueError):
        pass  # a broken changeset: the ordinary apply refuses it, as before
    return False


@functools.cache
def _probe_sql(name: str, ncols: int) -> tuple[str, str]:
    """The row and whether its columns past ``ncols`` hold their defaults; the defaults themselves."""
    t = registry_table(name)
    cols = t.columns[:_WIDTH[name]]
    newer = cols[ncols:]
    same = " AND ".join(f'"{c.name}" IS {c.default or "NULL"}' for c in newer)
    row = ", ".join(f'"{c.name}"' for c in cols)
    return (f'SELECT {row}, ({same}) FROM main."{name}" WHERE "{t.pk}" = ?',
            "SELECT " + ", ".join(c.default or "NULL" for c in newer))


def edited_beyond(conn: apsw.Connection, ch: apsw.TableChange) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """For a DELETE narrower than its table whose row's newer columns are not at their defaults: the
    base (the change's old values, then the defaults) and the server's whole row. Else None: the row is
    gone (SQLite reports NOTFOUND) or only the known columns may differ (SQLite compares them)."""
    width = _WIDTH.get(ch.name)
    if ch.op != "DELETE" or width is None or ch.column_count >= width or ch.old is None:
        return None
    row_sql, defaults_sql = _probe_sql(ch.name, ch.column_count)
    found = conn.execute(row_sql, (ch.old[0],)).fetchone()
    if found is None or found[-1]:
        return None
    names = registry_table(ch.name).column_names()[:width]
    defaults = conn.execute(defaults_sql).fetchone() or ()
    return dict(zip(names, (*ch.old, *defaults), strict=True)), dict(zip(names, found[:-1], strict=True))


def guard(conn: apsw.Connection, keep: Callable[[str, dict[str, Any], dict[str, Any]], None]
          ) -> Callable[[apsw.TableChange], bool]:
    """A ``filter_change`` for :func:`apsw.Changeset.apply`: skips (and hands to ``keep``: table, base,
    server row) each narrow DELETE :func:`edited_beyond` finds; every other change is applied."""

    def apply_it(ch: apsw.TableChange) -> bool:
        hit = edited_beyond(conn, ch)
        if hit is None:
            return True
        keep(ch.name, *hit)
        return False

    return apply_it
