"""Rows the units above share with a tablet: readable here, never writable.

Tables the registry marks ``shared_below`` (venues, community resources, party branches; ``units`` is
pulled-only anyway) reach a tablet with the rows of its own units *and* those of the units above its
unit (see ``server/pull.py``). A capture may write only the rows of its own units: the server would
quarantine an upload touching the others as out of scope, so the store refuses the capture first
(:class:`sync.errors.SharedRow`) and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable

import apsw

from schema.tables import table, uploadable_tables
from sync.errors import SharedRow
from sync.recorder import Recorder

SHARED_TABLES = frozenset(t.name for t in uploadable_tables() if t.shared_below)
"""Uploadable tables whose rows of the units above also reach this tablet, read-only."""
_OWN_UNITS = ("WITH RECURSIVE own(id) AS (SELECT ? UNION SELECT u.id FROM units u JOIN own ON u.parent_id = own.id)"
              " SELECT id FROM own")


def _scope_column(name: str) -> str:
    return table(name).scope or ""


def refuse_foreign_shared_rows(conn: apsw.Connection, recorder: Recorder, unit_id: str | None,
                               tables: Iterable[str]) -> None:
    """Raise :class:`SharedRow` if the capture noted by ``recorder`` wrote a row of ``tables`` that
    belongs (before or after) to a unit outside ``unit_id`` and the units below it. Not enrolled yet
    (``unit_id`` None): nothing to check against."""
    if not unit_id:
        return
    own = {str(r[0]) for r in conn.execute(_OWN_UNITS, (unit_id,))}
    for name, key, units in recorder.noted_units(conn, sorted(tables), _scope_column):
        if any(u is not None and u not in own for u in units):
            raise SharedRow(name, str(key))
