"""Canned queries on the three-musts notices (三必须事项): who was due a document, meeting invitation or
guidance, and who got it by its due date.

A notice of a unit is due to the retirees of that unit and of every unit below it whose category is its
``for_category`` or above, living on its due date. ``notice_coverage`` gives, per notice due in the chosen
month, how many were due it and how many had it by the due date (and by today); ``notice_unreached``
lists, for one notice, the retirees due it, living today, who have not had it at all. Definitions in
``docs/audit.md``; each function returns the query for one role, as in :mod:`server.audit.queries_practice`.

Cost follows the notices' own units, not the province: the notices due in the month are found through
``notices (due_by, unit_id)``; each notice's units through ``units (parent_id)``; the retirees due it are
counted per unit and category in ``retirees (unit_id, category)`` without reading a row, less those who
died by the due date (a short range of ``retirees (unit_id, deceased_on, …)``); its deliveries are read
through ``three_musts (notice_id, retiree_id, delivered_on)``, each retiree once.
"""

from __future__ import annotations

from schema import enums as E
from schema.definitions import RANKS_CTE, category_rank
from server.audit.sqlbits import (
    UNIT_AND_MONTH,
    UNIT_PARAM,
    CannedQuery,
    Ident,
    label,
    unit_in_scope,
    with_clause,
)

NOTICE_PARAM = "notice"

def _due_to(n: str, x: str) -> str:
    """SQL: retiree ``x`` is of a category notice ``n`` is due to, and living on its due date."""
    return (f"{category_rank(x + '.category')} <= {category_rank(n + '.for_category')}"
            f" AND ({x}.deceased_on IS NULL OR {x}.deceased_on > {n}.due_by)")


def notice_coverage(_: Ident) -> CannedQuery:
    picked = f"""picked AS MATERIALIZED (
  SELECT n.id, n.unit_id, n.kind, n.title, n.issued_on, n.due_by, n.for_category, u.code, u.name, p.today
  FROM period p JOIN notices n ON n.due_by BETWEEN p.m0 AND p.m1 JOIN units u ON u.id = n.unit_id
  WHERE {unit_in_scope('n.unit_id')}
)"""
    # every (notice, unit at or below its unit), with the notice's due date and lowest rank due it
    reach = f"""reach(notice_id, unit_id, due_by, top) AS (
  SELECT id, unit_id, due_by, {category_rank('for_category')} FROM picked
  UNION ALL SELECT r.notice_id, u.id, r.due_by, r.top FROM reach r JOIN units u ON u.parent_id = r.unit_id
)"""
    # each retiree due it (index only: retirees (unit_id, category, deceased_on, id), only the categories
    # due it) and the first day they had it (index only: three_musts (notice_id, retiree_id, delivered_on))
    due = """due(notice_id, due_by, first) AS MATERIALIZED (
  SELECT r.notice_id, r.due_by, (SELECT min(t.delivered_on) FROM three_musts t
                                 WHERE t.notice_id = r.notice_id AND t.retiree_id = x.id)
  FROM reach r CROSS JOIN ranks k CROSS JOIN retirees x
  WHERE k.rank <= r.top AND x.unit_id = r.unit_id AND x.category = k.code
    AND (x.deceased_on IS NULL OR x.deceased_on > r.due_by)
)"""
    got = """got(notice_id, n, on_time, so_far) AS MATERIALIZED (
  SELECT notice_id, count(*), sum(first <= due_by), count(first) FROM due GROUP BY notice_id
)"""
    sql = with_clause(extra=(RANKS_CTE, picked, reach, due, got)) + f"""SELECT p.code AS "下发单位代码",
  p.name AS "下发单位", p.id AS "事项编号", {label(E.MUST_KIND, 'p.kind')} AS "类型", p.title AS "标题",
  p.issued_on AS "下发日期", p.due_by AS "送达期限", {label(E.CATEGORY, 'p.for_category')} AS "发放范围(及以上)",
  CASE WHEN p.due_by < p.today THEN '已到期' ELSE '未到期' END AS "是否到期",
  coalesce(g.n, 0) AS "应送达人数", coalesce(g.on_time, 0) AS "按期送达人数",
  round(100.0 * coalesce(g.on_time, 0) / nullif(g.n, 0), 1) AS "按期送达率(%)",
  coalesce(g.so_far, 0) AS "至今送达人数", coalesce(g.n, 0) - coalesce(g.so_far, 0) AS "至今未送达人数"
FROM picked p LEFT JOIN got g ON g.notice_id = p.id
ORDER BY p.code, p.due_by, p.title, p.id"""
    return CannedQuery(
        "notice_coverage", "三必须事项送达情况",
        "所选月份到期的每一项三必须事项(文件、会议通知、上级精神):下发单位及其所有下级单位中属于发放范围"
        "(该类别及以上)、在送达期限当日在世的离退休干部人数,其中在期限前(含当日)收到的人数和比例,以及至今"
        "收到和仍未收到的人数。单位参数按下发单位筛选(含下级单位);未送达的人员见“三必须事项未送达人员”。",
        sql, UNIT_AND_MONTH)


def notice_unreached(ident: Ident) -> CannedQuery:
    picked = f"""picked AS MATERIALIZED (
  SELECT n.id, n.unit_id, n.due_by, n.for_category FROM notices n WHERE n.id = :{NOTICE_PARAM}
)"""
    reach = """reach(unit_id) AS (
  SELECT unit_id FROM picked
  UNION SELECT u.id FROM reach r JOIN units u ON u.parent_id = r.unit_id
)"""
    sql = with_clause(month=False, extra=(RANKS_CTE, picked, reach)) + f"""SELECT u.code AS "单位代码", u.name AS "单位",
  {ident.retiree('r')}, {label(E.CATEGORY, 'r.category')} AS "人员类别",
  CASE WHEN n.due_by < p.today THEN '已逾期' ELSE '未到期' END AS "是否逾期"
FROM picked n CROSS JOIN period p CROSS JOIN units u CROSS JOIN retirees r
WHERE u.id IN (SELECT unit_id FROM reach) AND {unit_in_scope('u.id')}
  AND r.unit_id = u.id AND r.deceased_on IS NULL AND {_due_to('n', 'r')}
  AND NOT EXISTS (SELECT 1 FROM three_musts t WHERE t.notice_id = n.id AND t.retiree_id = r.id)
ORDER BY u.code, {ident.retiree_order('r')}"""
    return CannedQuery(
        "notice_unreached", "三必须事项未送达人员",
        "所选三必须事项(填事项编号,见“三必须事项送达情况”)应送达而至今没有任何送达记录的在世离退休干部:"
        "下发单位及其所有下级单位中属于发放范围(该类别及以上)的人员;可按单位(含下级单位)缩小范围。",
        sql, (NOTICE_PARAM, UNIT_PARAM))


NOTICE_QUERIES = (notice_coverage, notice_unreached)
