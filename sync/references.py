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

from sync.errors import BrokenReference
from sync.recorder import Recorder

_UP = ("WITH RECURSIVE up(id) AS (SELECT t.unit_id UNION SELECT u.parent_id FROM units u JOIN up ON u.id = up.id"
       " WHERE u.parent_id IS NOT NULL) SELECT id FROM up")
RULES: dict[str, tuple[tuple[str, frozenset[str], str], ...]] = {
    "party_groups": (
        ("group_branch_unit", frozenset({"unit_id", "branch_id"}),
         "SELECT 1 FROM party_groups g JOIN party_branches b ON b.id = g.branch_id"
         " WHERE g.id = ? AND g.unit_id IS NOT b.unit_id"),
        ("member_group_branch", frozenset({"branch_id"}),
         "SELECT 1 FROM party_groups g JOIN party_members m ON m.group_id = g.id"
         " WHERE g.id = ? AND m.branch_id IS NOT g.branch_id"),
    ),
    "party_members": (
        ("member_group_branch", frozenset({"branch_id", "group_id"}),
         "SELECT 1 FROM party_members m JOIN party_groups g ON g.id = m.group_id"
         " WHERE m.id = ? AND g.branch_id IS NOT m.branch_id"),
        ("dual_branch_not_special", frozenset({"branch_id", "relation"}),
         "SELECT 1 FROM party_members m JOIN party_branches b ON b.id = m.branch_id"
         " WHERE m.id = ? AND m.relation = 'dual' AND b.kind IS NOT 'special'"),
    ),
    "party_branches": (
        ("group_branch_unit", frozenset({"unit_id"}),
         "SELECT 1 FROM party_branches b JOIN party_groups g ON g.branch_id = b.id"
         " WHERE b.id = ? AND g.unit_id IS NOT b.unit_id"),
        ("dual_branch_not_special", frozenset({"kind"}),
         "SELECT 1 FROM party_branches b JOIN party_members m ON m.branch_id = b.id"
         " WHERE b.id = ? AND m.relation = 'dual' AND b.kind IS NOT 'special'"),
    ),
    "three_musts": (
        ("notice_out_of_scope", frozenset({"unit_id", "notice_id"}),
         f"SELECT 1 FROM three_musts t JOIN notices n ON n.id = t.notice_id WHERE t.id = ? AND n.unit_id NOT IN ({_UP})"),
    ),
}
"""Table -> (rule's code, the columns whose change calls for it, SQL giving a row when the changed row of
that key breaks the rule)."""
TABLES = frozenset(RULES)


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
