"""Canned queries on the party organisation's shape: formal and dual membership, party groups.

The seed's “两不、一方、两双”: a member's formal affiliation is with one branch (一方隶属); a special branch
that also manages them (双重管理) counts them among its members too, since they take part in both
branches' activities (双边活动). Per branch, each membership row counts; in the total, each person counts
once. Definitions are in ``docs/audit.md``.
"""

from __future__ import annotations

from schema import enums as E
from server.audit.sqlbits import UNIT_PARAM, CannedQuery, Ident, label, unit_in_scope, with_clause

_ALIVE = "(r.deceased_on IS NULL OR r.deceased_on > p.today)"


def branch_membership(_: Ident) -> CannedQuery:
    # Every branch's memberships are counted in one pass over the (branch_id, relation, group_id) index; those
    # of the dead are found unit by unit through the retirees' (unit_id, deceased_on, ...) index and taken
    # off (as in branch_meetings), so no member's retiree row is read. The living dual memberships are few:
    # they are read one by one, for the formal branches' column and the total.
    extra = (
        "counted(branch_id, formal, dual, ungrouped) AS MATERIALIZED (SELECT branch_id, sum(relation = 'formal'),"
        " sum(relation = 'dual'), sum(group_id IS NULL) FROM party_members GROUP BY branch_id)",
        "departed(branch_id, formal, dual, ungrouped) AS MATERIALIZED (SELECT m.branch_id, sum(m.relation = 'formal'),"
        " sum(m.relation = 'dual'), sum(m.group_id IS NULL) FROM period p CROSS JOIN units ud CROSS JOIN retirees r"
        " CROSS JOIN party_members m ON m.retiree_id = r.id WHERE r.unit_id = ud.id AND r.deceased_on > ''"
        " AND r.deceased_on <= p.today GROUP BY m.branch_id)",
        "duals(retiree_id, unit_id) AS MATERIALIZED (SELECT d.retiree_id, b.unit_id FROM period p"
        " CROSS JOIN party_members d CROSS JOIN retirees r CROSS JOIN party_branches b"
        f" WHERE d.relation = 'dual' AND r.id = d.retiree_id AND {_ALIVE} AND b.id = d.branch_id)",
        "also(branch_id, n) AS MATERIALIZED (SELECT f.branch_id, count(DISTINCT f.retiree_id) FROM duals x"
        " CROSS JOIN party_members f WHERE f.retiree_id = x.retiree_id AND f.relation = 'formal' GROUP BY f.branch_id)",
        "grouped(branch_id, n) AS MATERIALIZED (SELECT branch_id, count(*) FROM party_groups GROUP BY branch_id)",
        "rows_(code, name, branch_id, branch, kind, formal, also, dual, ungrouped, groups) AS MATERIALIZED ("
        f"SELECT u.code, u.name, b.id, b.name, {label(E.BRANCH_KIND, 'b.kind')},"
        " coalesce(c.formal, 0) - coalesce(x.formal, 0), coalesce(a.n, 0), coalesce(c.dual, 0) - coalesce(x.dual, 0),"
        " coalesce(c.ungrouped, 0) - coalesce(x.ungrouped, 0), coalesce(g.n, 0)"
        " FROM units u CROSS JOIN party_branches b LEFT JOIN counted c ON c.branch_id = b.id"
        " LEFT JOIN departed x ON x.branch_id = b.id LEFT JOIN also a ON a.branch_id = b.id"
        f" LEFT JOIN grouped g ON g.branch_id = b.id WHERE b.unit_id = u.id AND {unit_in_scope('u.id')})",
    )
    # a dual member of a branch in scope whose formal branch is not in scope adds one person to the total
    outside = ("(SELECT count(DISTINCT x.retiree_id) FROM duals x WHERE "
               f"{unit_in_scope('x.unit_id')} AND NOT EXISTS (SELECT 1 FROM party_members f"
               " CROSS JOIN party_branches fb WHERE f.retiree_id = x.retiree_id AND f.relation = 'formal'"
               f" AND fb.id = f.branch_id AND {unit_in_scope('fb.unit_id')}))")
    dual_people = f"(SELECT count(DISTINCT x.retiree_id) FROM duals x WHERE {unit_in_scope('x.unit_id')})"
    sql = with_clause(month=False, extra=extra) + f"""SELECT * FROM (
SELECT code AS "单位代码", name AS "单位", branch_id AS "支部编号", branch AS "支部", kind AS "支部类型",
  formal AS "正式党员数(一方隶属)", also AS "其中另受特设党支部管理", dual AS "双重管理党员数",
  formal + dual AS "参加本支部活动党员数", groups AS "党小组数", ungrouped AS "未编入党小组党员数"
FROM rows_
UNION ALL
SELECT NULL, '合计(每人只计一次)', NULL, NULL, NULL, coalesce(sum(formal), 0), coalesce(sum(also), 0),
  {dual_people}, coalesce(sum(formal), 0) + {outside}, coalesce(sum(groups), 0), NULL
FROM rows_)
ORDER BY "单位代码" IS NULL, "单位代码", "支部", "支部编号"
"""
    return CannedQuery(
        "branch_membership", "党支部党员组成:一方隶属、双重管理与党小组",
        "按“两不、一方、两双”原则,列出每个离退休干部党支部在世党员中:正式组织关系在本支部的(一方隶属)"
        "及其中另受特设党支部管理的人数,由特设党支部双重管理、正式组织关系在别处的人数,两者之和即参加本支部"
        "组织生活的党员数(双边活动),党小组数,以及未编入党小组的党员数。最后一行为合计:"
        "双重管理的党员在两个支部各计一次,合计中每人只计一次(未编入党小组的人数不合计)。",
        sql, (UNIT_PARAM,))


PARTY_QUERIES = (branch_membership,)
