"""Roster history (信息动态化): one ``roster_history`` row per column a capture changed.

Derived from the capture's own net change (:mod:`sync.recorder`), so it sees exactly the net change of
the transaction: a value changed and changed back leaves no history, a row inserted and then edited in
the same capture is a new row (no history), an UPDATE lists old and new values of the changed
columns only.

Two ways in, giving the same rows in the same order: :func:`derive` reads a changeset (and the owning
retiree of each changed row from the database); :func:`from_updates` takes the UPDATEs the recorder
encoded while it made that changeset (:data:`sync.recorder.Update`), which already hold each row's
current values — what a capture uses, with no changeset to decode and no row to read again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import apsw

from sync.changesets import as_text
from sync.recorder import Update

HISTORY_SOURCES: Mapping[str, str] = MappingProxyType({"retirees": "id", "family_contacts": "retiree_id"})
"""Tables whose edits are kept as history -> the column naming the retiree the row belongs to."""
HISTORY_TABLE = "roster_history"
"""The table the history rows go to."""


@dataclass(frozen=True)
class HistoryRow:
    """One changed column of one roster row, ready for ``roster_history``."""

    unit_id: str
    retiree_id: str
    field: str
    old_value: str | None
    new_value: str | None


def _field_name(table: str, column: str) -> str:
    return column if table == "retirees" else f"{table}.{column}"


def derive(
    conn: apsw.Connection, changeset: bytes, columns: Callable[[str], tuple[str, ...]]
) -> list[HistoryRow]:
    """History rows for every UPDATE of a history table in ``changeset`` (read current rows via conn)."""
    out: list[HistoryRow] = []
    for change in apsw.Changeset.iter(changeset):
        if change.op != "UPDATE" or change.name not in HISTORY_SOURCES:
            continue
        names = columns(change.name)
        old, new = change.old, change.new
        if old is None or new is None:
            continue
        key = old[0]
        owner = HISTORY_SOURCES[change.name]
        row = conn.execute(
            f'SELECT "unit_id", "{owner}" FROM "{change.name}" WHERE "id" = ?', (key,)
        ).fetchone()
        if row is None:  # pragma: no cover - a net UPDATE always leaves its row in place
            continue
        unit_id, retiree_id = str(row[0]), str(row[1])
        pk = change.pk_columns  # a new object on every access: read it once
        no_change = apsw.no_change
        for i, value in enumerate(new):
            if value is no_change or i in pk:
                continue
            out.append(HistoryRow(unit_id, retiree_id, _field_name(change.name, names[i]),
                                  as_text(old[i]), as_text(value)))
    return out


def from_updates(updates: Iterable[Update], columns: Callable[[str], tuple[str, ...]]) -> list[HistoryRow]:
    """What :func:`derive` gives for the changeset these UPDATEs were encoded in (as
    :meth:`sync.recorder.Recorder.take` lists them, in changeset order): the owning retiree and unit
    from the row's values now (the row :func:`derive` reads back by key), then one row per changed
    column, key excluded, in column order, each with its old and new value."""
    out: list[HistoryRow] = []
    for name, _key, then, now, changed in updates:
        owner = HISTORY_SOURCES.get(name)
        if owner is None:
            continue
        names = columns(name)
        unit_id, retiree_id = str(now[names.index("unit_id")]), str(now[names.index(owner)])
        for i in changed:
            out.append(HistoryRow(unit_id, retiree_id, _field_name(name, names[i]), as_text(then[i]),
                                  as_text(now[i])))
    return out
