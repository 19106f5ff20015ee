"""Rules between rows that a foreign key cannot state (schema version 4's party groups, dual membership
and three-musts notices), as SQL over the rows as they stand: each query gives a row when the row of the
given key breaks the rule. The tablet checks them before a capture commits (``sync/references.py``), the
server on the rows an upload's field merge or a supervisor's conflict resolution wrote
(``server/reference_rules.py``, which also checks an upload's own values before anything is applied).

* ``group_branch_unit``: a party group (党小组) belongs to its branch's unit;
* ``member_group_branch``: a member's group is a group of the member's own branch;
* ``dual_branch_not_special``: a dual membership (双重管理) is of a special branch (特设党支部);
* ``notice_out_of_scope``: a delivery's notice was issued by the delivery's unit or a unit above it.
"""

from __future__ import annotations

_UP = ("WITH RECURSIVE up(id) AS (SELECT t.unit_id UNION SELECT u.parent_id FROM units u JOIN up ON u.id = up.id"
       " WHERE u.parent_id IS NOT NULL) SELECT id FROM up")
ROW_RULES: dict[str, tuple[tuple[str, frozenset[str], str], ...]] = {
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
"""Table -> (rule's code, the columns whose change calls for it, SQL giving a row when the row of that key
breaks the rule)."""
ROW_RULE_TABLES = frozenset(ROW_RULES)
