"""Roster history (信息动态化): one ``roster_history`` row per column a capture changed.

Derived from the capture's own net change (:mod:`sync.recorder`), so it sees exactly the net change of
the transaction: a value changed and changed back leaves no history, a row inserted and then edited in
the same capture is a new row (no history), an UPDATE lists old and new values of the changed
columns only.

:func:`from_updates` takes the UPDATEs the recorder encoded while it made the capture's changeset
(:data:`sync.recorder.Update`), which already hold each row's current values: no changeset to decode
and no row to read again. (``tests/sync/history_reference.py`` derives the same rows from the changeset
itself, and the tests check the two agree.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

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


def from_updates(updates: Iterable[Update], columns: Callable[[str], tuple[str, ...]]) -> list[HistoryRow]:
    """History rows for the UPDATEs of history tables a capture's changeset holds (as
    :meth:`sync.recorder.Recorder.take` lists them, in changeset order): the owning retiree and unit
    from the row's values now, then one row per changed column, key excluded, in column order, each
    with its old and new value."""
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
