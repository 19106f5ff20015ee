"""The reference for :func:`sync.history.from_updates`: roster history decoded from a capture's
changeset, reading each changed row's owner back from the database (what the store did before the
recorder listed its UPDATEs). Tests check the two agree."""

from __future__ import annotations

from collections.abc import Callable

import apsw

from sync.changesets import as_text
from sync.history import HISTORY_SOURCES, HistoryRow, _field_name


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
