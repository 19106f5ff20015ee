"""Rules between rows that a foreign key cannot state (:mod:`schema.row_rules`), checked on the tablet
before a capture commits.

The server refuses an upload that breaks one (``server/reference_rules.py``) and quarantines it; checking
here first turns that into an error at the moment of the edit, with nothing written. A row is checked when
the capture inserts it or changes a column a rule reads, both ways (a branch that stops being special while
it has dual members breaks a rule as surely as a new dual member does). It is the tablet's best effort over
the rows it holds: a membership lives in the retiree's unit, so a special branch's tablet does not hold dual
members of other units; the server finds those. A row a rule points at that the tablet lacks passes here.
"""

from __future__ import annotations

from collections.abc import Iterable

import apsw

from schema.row_rules import ROW_RULES
from sync.errors import BrokenReference
from sync.recorder import Recorder


def refuse_broken_references(conn: apsw.Connection, recorder: Recorder, tables: Iterable[str]) -> None:
    """Raise :class:`BrokenReference` for the first row of ``tables`` the capture inserted, or changed in a
    column a rule reads, that breaks that rule (see the module docstring). A deleted row breaks none, and an
    edit of other columns leaves the rules alone (as the server checks them), so a row that broke one
    before — e.g. by a field merge on the server — does not block unrelated edits."""
    have = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                             " AND name IN ('party_groups', 'notices')")}
    if len(have) < 2:  # a database from before schema 4 (not opened through TabletStore.open): no such rows
        return
    for name, key, then, now in recorder.noted_rows(conn, sorted(tables)):
        if now is None:
            continue
        for code, columns, sql in ROW_RULES[name]:
            if then is not None and all(then[i] == now[i] and type(then[i]) is type(now[i])
                                        for i in (recorder.column_index(name, c) for c in columns)):
                continue
            if conn.execute(sql, (key,)).fetchone() is not None:
                raise BrokenReference(code, name, str(key))
