"""Rules between rows that a foreign key cannot state, checked on the tablet before a capture commits.

The server refuses an upload that breaks one (``server/reference_rules.py``, each with its code) and
quarantines it; checking here first turns that into an error at the moment of the edit, with nothing
written. The rules, over the rows as the capture leaves them:

* a party group (党小组) belongs to its branch's unit (``group_branch_unit``);
* a member's group is a group of the member's own branch (``member_group_branch``);
* a dual membership (双重管理) is of a special branch (特设党支部) (``dual_branch_not_special``);
* a three-musts delivery's notice was issued by the delivery's unit or a unit above it
  (``notice_out_of_scope``).

Each rule is one query per row the capture inserts or changes in a column the rule reads, both ways (a
branch that stops being special while it has dual members breaks the third rule as surely as a new dual
member does). The check is the tablet's best effort over the rows it holds: a membership lives in the
retiree's unit, so a special branch's tablet does not hold dual members of other units, and a breach
involving rows it does not hold is found by the server, which quarantines the upload. A row the rule
points at that the tablet does not hold passes here.
"""

from __future__ import annotations

from collections.abc import Iterable

import apsw

from schema.row_rules import ROW_RULE_TABLES, ROW_RULES
from sync.errors import BrokenReference
from sync.recorder import Recorder

RULES = ROW_RULES
TABLES = ROW_RULE_TABLES


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
        for code, columns, sql in RULES[name]:
            if then is not None and all(then[i] == now[i] and type(then[i]) is type(now[i])
                                        for i in (recorder.column_index(name, c) for c in columns)):
                continue
            if conn.execute(sql, (key,)).fetchone() is not None:
                raise BrokenReference(code, name, str(key))
