"""Canned queries on the practices that reach out to retirees: the three musts, four-nearby service
and community resources.

Like :mod:`server.audit.queries_practice`, each function returns the query for one role; definitions
are in ``docs/audit.md``.
"""

from __future__ import annotations

from schema import enums as E
from schema.definitions import CONDITIONS, FOUR_NEARBY, HIGH_AGE
from server.audit.sqlbits import (
    UNIT_AND_MONTH,
    UNIT_PARAM,
    CannedQuery,
    Ident,
    lit,
    unit_in_scope,
    with_clause,
)

FOUR_NEARBY_GROUP = tuple((CONDITIONS[c].zh, CONDITIONS[c].at("p.today")) for c in FOUR_NEARBY)
"""The seed's target group of four-nearby service (:data:`schema.definitions.FOUR_NEARBY`), judged today:
(label, SQL over ``r``)."""


def musts_coverage(_: Ident) -> CannedQuery:
    # A month's deliveries per unit through three_musts (unit_id, delivered_on); the people reached are
    # all the distinct retirees delivered to less those now dead, found by walking the dead (few) unit by
    # unit and probing their deliveries — not a retirees lookup per delivery, which cost 1.1-1.6 s in a
    # month when a county-wide item reached everyone (November, March: 290,000-420,000 deliveries).
    ksum = ", ".join(f"sum(t.kind = {lit(k.code)}) AS k{i}" for i, k in enumerate(E.MUST_KIND.values))
    agg = f"""agg AS MATERIALIZED (
  SELECT t.unit_id, count(*) AS n, {ksum}, count(DISTINCT t.retiree_id) AS people
  FROM period p CROSS JOIN units u CROSS JOIN three_musts t
  WHERE {unit_in_scope('u.id')} AND t.unit_id = u.id AND t.delivered_on BETWEEN p.m0 AND p.m1
  GROUP BY t.unit_id
)"""
    # the dead among them: with no unit chosen, by walking every dead retiree (few) and probing their
    # deliveries; with a unit, through the unit's own deliveries of the month (a walk of the province's
    # dead would cost the same whatever the unit)
    everywhere = f"coalesce(:{UNIT_PARAM}, '') = ''"
    dead = f"""dead AS MATERIALIZED (
  SELECT t.unit_id, count(DISTINCT t.retiree_id) AS n
  FROM period p CROSS JOIN units w CROSS JOIN retirees r CROSS JOIN three_musts t
  WHERE {everywhere} AND r.unit_id = w.id AND r.deceased_on IS NOT NULL AND t.retiree_id = r.id
    AND t.delivered_on BETWEEN p.m0 AND p.m1
  GROUP BY t.unit_id
  UNION ALL
  SELECT t.unit_id, count(DISTINCT t.retiree_id)
  FROM period p CROSS JOIN units u CROSS JOIN three_musts t CROSS JOIN retirees r
  WHERE NOT {everywhere} AND {unit_in_scope('u.id')} AND t.unit_id = u.id AND t.delivered_on BETWEEN p.m0 AND p.m1
    AND r.id = t.retiree_id AND r.deceased_on IS NOT NULL
  GROUP BY t.unit_id
)"""
    kinds = ",\n  ".join(f'coalesce(a.k{i}, 0) AS "{k.zh}"' for i, k in enumerate(E.MUST_KIND.values))
    living = "coalesce(a.people, 0) - coalesce(d.n, 0)"
    sql = with_clause(extra=(agg, dead)) + f"""SELECT u.code AS "单位代码", u.name AS "单位", c.living AS "在世人数",
  coalesce(a.n, 0) AS "送达次数",
  {kinds},
  {living} AS "送达人数(在世)",
  round(100.0 * ({living}) / c.living, 1) AS "覆盖率(%)"
FROM units u JOIN unit_special_counts c ON c.unit_id = u.id
  LEFT JOIN agg a ON a.unit_id = u.id LEFT JOIN dead d ON d.unit_id = u.id
WHERE c.living > 0 AND {unit_in_scope('u.id')}
ORDER BY u.code"""
    return CannedQuery(
        "musts_coverage", "三必须落实情况(按单位)",
        "所选月份各单位“文件必须送到、会议必须邀请、上级精神必须传达”的送达次数,送达了至少一项且目前在世的"
        "离退休干部人数,及其占本单位目前在世离退休干部的比例;当月什么也没有送达的单位显示为0。", sql, UNIT_AND_MONTH)


def four_nearby_gaps(ident: Ident) -> CannedQuery:
    # Disability is personal: the auditor's list leaves out those in the group for it alone (a person under
    # 80 listed with none of the other flags would otherwise be known to be disabled).
    shown = FOUR_NEARBY_GROUP if ident.role == "senior" else tuple(g for g in FOUR_NEARBY_GROUP if g[0] != "失能")
    group = " OR ".join(f"({expr})" for _, expr in shown)
    reason = ""
    if ident.role == "senior":  # which of the group's conditions (disability is personal: seniors only)
        parts = " || ".join(f"(CASE WHEN {expr} THEN {lit(zh + ' ')} ELSE '' END)" for zh, expr in FOUR_NEARBY_GROUP)
        reason = f', trim({parts}) AS "符合条件"'
    sql = with_clause(month=False) + f"""SELECT u.code AS "单位代码", u.name AS "单位", {ident.retiree('r')}{reason}
FROM units u CROSS JOIN period p CROSS JOIN retirees r
WHERE r.unit_id = u.id AND {unit_in_scope('u.id')} AND r.deceased_on IS NULL AND r.four_nearby = 0
  AND ({group})
ORDER BY u.code, {ident.retiree_order('r')}"""
    return CannedQuery(
        "four_nearby_gaps", "未纳入“四就近”服务的重点对象",
        f"在世离退休干部中属于“四就近”服务对象(高龄即年满{HIGH_AGE}周岁、失能、失独、空巢或经济困难)"
        "而尚未纳入“四就近”服务的人员。失能属于个人信息:审计员角色不列出仅因失能而属于服务对象的人员。",
        sql, (UNIT_PARAM,))


def resource_orders(_: Ident) -> CannedQuery:
    # The month's orders per unit through (unit_id, requested_on, ...), each order's provider read once.
    sql = with_clause() + f"""SELECT u.code AS "单位代码", u.name AS "单位", count(*) AS "下单数",
  sum(o.status = 'fulfilled') AS "已完成",
  sum(o.status = 'fulfilled' AND o.provider_id IS NOT NULL) AS "其中由社区资源承接",
  round(100.0 * sum(o.status = 'fulfilled' AND o.provider_id IS NOT NULL)
        / nullif(sum(o.status = 'fulfilled'), 0), 1) AS "社区资源承接占比(%)",
  count(DISTINCT CASE WHEN o.status = 'fulfilled' THEN o.provider_id END) AS "用到的社区资源数",
  (SELECT count(*) FROM community_resources cr WHERE cr.unit_id = u.id AND cr.active = 1)
    AS "本单位登记的可用社区资源数"
FROM units u CROSS JOIN period p CROSS JOIN service_orders o
WHERE o.unit_id = u.id AND {unit_in_scope('u.id')} AND o.requested_on BETWEEN p.m0 AND p.m1
GROUP BY u.code ORDER BY u.code"""
    return CannedQuery(
        "resource_orders", "社区资源承接服务订单情况(按单位)",
        "所选月份各单位的服务订单中,已完成的订单有多少由社区资源(送餐、爱心超市、邻里互助、社区商家等)承接,"
        "用到了几家社区资源,以及本单位登记为可用的社区资源数(上级单位的资源也为本单位服务)。", sql, UNIT_AND_MONTH)


OUTREACH_QUERIES = (musts_coverage, four_nearby_gaps, resource_orders)
