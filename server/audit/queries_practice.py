"""Canned queries on the seed's practices: contact, must-visits, study, visits, orders, targeting.

Each function returns the query for one role; only the columns that identify people differ
(:class:`~server.audit.sqlbits.Ident`). Definitions (what counts as "contacted", "in time" …) are in
``docs/audit.md``.
"""

from __future__ import annotations

from schema import enums as E
from schema.tables import table
from server.audit.sqlbits import (
    MONTH_PARAM,
    UNIT_PARAM,
    CannedQuery,
    Ident,
    in_scope,
    label,
    lit,
    with_clause,
)

BOTH = (UNIT_PARAM, MONTH_PARAM)
MUST_VISIT_EVENTS = ("hospitalised", "illness", "hardship", "bereavement", "complaint")
BIRTHDAY_AGE = 80
VISIT_DAYS = 7
CASELOAD = 33


def not_contacted(ident: Ident) -> CannedQuery:
    sql = with_clause() + f"""SELECT u.code AS "单位代码", u.name AS "单位", {ident.retiree('r')},
  {label(E.CATEGORY, 'r.category')} AS "人员类别",
  (SELECT max(c.contacted_on) FROM contacts c WHERE c.retiree_id = r.id AND c.reached = 1
     AND c.contacted_on <= p.m1) AS "最近联系日期"
FROM retirees r JOIN units u ON u.id = r.unit_id, period p
WHERE {in_scope('r.unit_id')}
  AND (r.deceased_on IS NULL OR r.deceased_on >= p.m0)
  AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.retiree_id = r.id AND c.reached = 1
                  AND c.contacted_on BETWEEN p.m0 AND p.m1)
ORDER BY u.code, {ident.retiree_order('r')}"""
    return CannedQuery(
        "not_contacted", "本月未联系的离退休干部",
        "每月电话联系一次:所选月份内没有一次“联系上”(本人或家属)记录的在世离退休干部。",
        sql, BOTH)


def must_visit_overdue(ident: Ident) -> CannedQuery:
    kinds = ", ".join(lit(k) for k in MUST_VISIT_EVENTS)
    birthday = "date(strftime('%Y', p.m0) || substr(r.birth_date, 5))"
    occasions = f"""occasions(retiree_id, kind, on_day, win0, win1) AS (
  SELECT e.retiree_id, {label(E.EVENT_KIND, 'e.kind')}, e.occurred_on, e.occurred_on,
         date(e.occurred_on, '+{VISIT_DAYS} days')
  FROM life_events e, period p
  WHERE {in_scope('e.unit_id')} AND e.kind IN ({kinds}) AND e.retiree_id IS NOT NULL
    AND e.occurred_on BETWEEN p.m0 AND p.m1
  UNION ALL
  SELECT b.id, '{BIRTHDAY_AGE}岁以上寿辰', b.day, date(b.day, '-{VISIT_DAYS} days'), date(b.day, '+{VISIT_DAYS} days')
  FROM (SELECT r.id, r.deceased_on, {birthday} AS day,
               CAST(strftime('%Y', p.m0) AS INTEGER) - CAST(strftime('%Y', r.birth_date) AS INTEGER) AS age
        FROM retirees r, period p WHERE {in_scope('r.unit_id')} AND substr(r.birth_date, 6, 2) = strftime('%m', p.m0)) b
  WHERE b.age >= {BIRTHDAY_AGE} AND (b.deceased_on IS NULL OR b.deceased_on > b.day)
)"""
    sql = with_clause(extra=(occasions,)) + f"""SELECT u.code AS "单位代码", u.name AS "单位", {ident.retiree('r')},
  o.kind AS "事由", o.on_day AS "发生日期", o.win1 AS "应访截止",
  CAST(julianday(p.today) - julianday(o.win1) AS INTEGER) AS "逾期天数"
FROM occasions o JOIN retirees r ON r.id = o.retiree_id JOIN units u ON u.id = r.unit_id, period p
WHERE {in_scope('r.unit_id')} AND o.win1 < p.today
  AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.retiree_id = o.retiree_id
                  AND v.visited_on BETWEEN o.win0 AND o.win1)
ORDER BY u.code, o.on_day, {ident.retiree_order('r')}"""
    return CannedQuery(
        "must_visit_overdue", "六必访逾期未访",
        f"所选月份内的生病住院、患病、遇到困难、丧葬、反映问题事项(事后{VISIT_DAYS}日内),以及{BIRTHDAY_AGE}岁以上"
        f"老同志的寿辰(前后{VISIT_DAYS}日内),期限已过仍没有走访记录的。",
        sql, BOTH)


def absent_members(ident: Ident) -> CannedQuery:
    window = "win(w0, w1) AS MATERIALIZED (SELECT date(m0, '-2 months'), m1 FROM period)"
    present = ("SELECT 1 FROM meeting_attendance a JOIN party_meetings mt ON mt.id = a.meeting_id"
               " WHERE a.member_id = m.id AND a.status = 'present'")
    sql = with_clause(extra=(window,)) + f"""SELECT u.code AS "单位代码", u.name AS "单位", {ident.retiree('r')},
  b.name AS "所在支部",
  (SELECT count(*) FROM party_meetings mt WHERE mt.branch_id = m.branch_id AND mt.held_on BETWEEN w.w0 AND w.w1)
    AS "期间组织生活次数",
  (SELECT max(mt.held_on) FROM meeting_attendance a JOIN party_meetings mt ON mt.id = a.meeting_id
     WHERE a.member_id = m.id AND a.status = 'present') AS "最近出席日期",
  (SELECT max(h.delivered_on) FROM home_study h WHERE h.member_id = m.id) AS "最近送学日期"
FROM party_members m JOIN retirees r ON r.id = m.retiree_id JOIN units u ON u.id = m.unit_id
  JOIN party_branches b ON b.id = m.branch_id, win w
WHERE {in_scope('m.unit_id')} AND (r.deceased_on IS NULL OR r.deceased_on > w.w1)
  AND EXISTS (SELECT 1 FROM party_meetings mt WHERE mt.branch_id = m.branch_id AND mt.held_on BETWEEN w.w0 AND w.w1)
  AND NOT EXISTS ({present} AND mt.held_on BETWEEN w.w0 AND w.w1)
  AND NOT EXISTS (SELECT 1 FROM home_study h WHERE h.member_id = m.id AND h.delivered_on BETWEEN w.w0 AND w.w1)
ORDER BY u.code, {ident.retiree_order('r')}"""
    return CannedQuery(
        "absent_members", "党员连续3个月未参加组织生活且未送学上门",
        "截至所选月份的连续3个自然月内,所在支部开过组织生活而本人一次也未出席,且这期间没有送学上门记录的党员。",
        sql, BOTH)


def visit_kinds(_: Ident) -> CannedQuery:
    counts = ",\n  ".join(f"sum(v.kind = {lit(k.code)}) AS \"{k.zh}\"" for k in E.VISIT_KIND.values)
    sql = with_clause() + f"""SELECT u.code AS "单位代码", u.name AS "单位", count(*) AS "走访次数",
  {counts},
  round(100.0 * sum(v.kind IN ('material', 'both')) / count(*), 1) AS "含物质慰问占比(%)",
  round(100.0 * sum(v.kind IN ('spiritual', 'both')) / count(*), 1) AS "含精神慰问占比(%)",
  sum(v.policy_conveyed) AS "传达政策次数"
FROM visits v JOIN units u ON u.id = v.unit_id, period p
WHERE {in_scope('v.unit_id')} AND v.visited_on BETWEEN p.m0 AND p.m1
GROUP BY u.id ORDER BY u.code"""
    return CannedQuery(
        "visit_kinds", "物质慰问与精神慰问占比(按单位)",
        "所选月份各单位的走访次数及物质、精神慰问的构成,检查是否“物质慰问多、精神慰问少”。",
        sql, BOTH)


def orders_overdue(ident: Ident) -> CannedQuery:
    sql = with_clause(month=False) + f"""SELECT u.code AS "单位代码", u.name AS "单位", o.id AS "订单编号",
  {ident.retiree('r')}, {label(E.MENU_ITEM, 'o.item')} AS "服务项目", {label(E.ORDER_STATUS, 'o.status')} AS "状态",
  o.requested_on AS "下单日期", CAST(julianday(p.today) - julianday(o.requested_on) AS INTEGER) AS "已等待天数",
  {ident.staff('s', '承接人')}
FROM service_orders o JOIN retirees r ON r.id = o.retiree_id JOIN units u ON u.id = o.unit_id
  LEFT JOIN staff s ON s.id = o.assigned_to, period p
WHERE {in_scope('o.unit_id')} AND o.status IN ('open', 'assigned') AND o.requested_on < date(p.today, '-14 days')
ORDER BY o.requested_on, o.id"""
    return CannedQuery(
        "orders_overdue", "超过14天未完成的服务订单",
        "待派单或已派单、下单已超过14天仍未完成的服务订单。", sql, (UNIT_PARAM,))


def menu_fulfilment(_: Ident) -> CannedQuery:
    menu = ", ".join(f"({lit(v.code)}, {lit(v.zh)}, {i})" for i, v in enumerate(E.MENU_ITEM.values))
    sql = with_clause(extra=(f"menu(item, zh, ord) AS (VALUES {menu})",)) + f"""SELECT m.zh AS "服务项目",
  count(o.id) AS "订单数", coalesce(sum(o.status = 'fulfilled'), 0) AS "已完成",
  coalesce(sum(o.status = 'cancelled'), 0) AS "已取消", coalesce(sum(o.status IN ('open', 'assigned')), 0) AS "未完成",
  round(100.0 * sum(o.status = 'fulfilled') / nullif(count(o.id) - sum(o.status = 'cancelled'), 0), 1) AS "完成率(%)",
  round(avg(CASE WHEN o.status = 'fulfilled' THEN julianday(o.fulfilled_on) - julianday(o.requested_on) END), 1)
    AS "平均完成天数",
  round(avg(o.satisfaction), 2) AS "平均满意度"
FROM menu m LEFT JOIN (SELECT o.* FROM service_orders o, period p
                       WHERE {in_scope('o.unit_id')} AND o.requested_on BETWEEN p.m0 AND p.m1) o ON o.item = m.item
GROUP BY m.item ORDER BY m.ord"""
    return CannedQuery(
        "menu_fulfilment", "各服务项目的订单完成率",
        "所选月份下单的服务订单,按菜单项统计:完成率 = 已完成 ÷(订单数 − 已取消)。", sql, BOTH)


def targeting_gaps(ident: Ident) -> CannedQuery:
    since = "date(p.today, '-90 days')"
    order = ("SELECT 1 FROM service_orders o WHERE o.retiree_id = r.id AND o.item = {item} AND o.status != 'cancelled'"
             f" AND (o.requested_on >= {since} OR o.fulfilled_on >= {since})")
    reason = ""
    if ident.role == "senior":
        reason = (", trim((CASE WHEN r.marital_status = 'widowed' THEN '丧偶 ' ELSE '' END)"
                  " || (CASE WHEN r.health_status = 'bedridden' THEN '长期卧床 ' ELSE '' END)"
                  " || (CASE WHEN r.hospitalised = 1 THEN '正在住院 ' ELSE '' END)"
                  " || (CASE WHEN r.health_status = 'serious' THEN '重症 ' ELSE '' END)"
                  " || (CASE WHEN r.residence_type = 'hospital' THEN '长期住院' ELSE '' END)) AS \"原因\"")
    base = ("FROM retirees r JOIN units u ON u.id = r.unit_id, period p\n"
            f"WHERE {in_scope('r.unit_id')} AND r.deceased_on IS NULL")

    def head(gap: str) -> str:
        return f'SELECT u.code AS "单位代码", u.name AS "单位", {ident.retiree("r")}, {lit(gap)} AS "缺口"{reason}'

    sql = with_clause(month=False) + f"""SELECT * FROM (
{head('精神慰藉')}
{base} AND (r.marital_status = 'widowed' OR r.health_status = 'bedridden')
  AND NOT EXISTS ({order.format(item="'emotional_comfort'")})
  AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.retiree_id = r.id AND v.kind IN ('spiritual', 'both')
                  AND v.visited_on >= {since})
UNION ALL
{head('医疗保健')}
{base} AND (r.hospitalised = 1 OR r.health_status = 'serious' OR r.residence_type = 'hospital')
  AND NOT EXISTS ({order.format(item="'health_care'")})
) ORDER BY "单位代码", "缺口", "编号\""""
    return CannedQuery(
        "targeting_gaps", "精准服务缺口(精神慰藉、医疗保健)",
        "丧偶或长期卧床、90天内没有精神慰藉订单也没有精神慰问走访的;正在住院、重症或长期住院、90天内没有医疗保健订单的。",
        sql, (UNIT_PARAM,))


def caseload(ident: Ident) -> CannedQuery:
    team = f"""team(id, unit_id, name, role) AS MATERIALIZED (
  SELECT s.id, s.unit_id, s.name, s.role FROM staff s
  WHERE {in_scope('s.unit_id')} AND s.active = 1 AND s.role != 'supervisor'
)"""
    alive = f"{in_scope('r.unit_id')} AND r.deceased_on IS NULL"
    cases = ("cases(staff_id, n) AS (SELECT r.caseworker_id, count(*) FROM retirees r"
             f" WHERE {alive} AND r.caseworker_id IS NOT NULL GROUP BY r.caseworker_id)")
    load = ("load(unit_id, retirees, unassigned) AS (SELECT r.unit_id, count(*), sum(r.caseworker_id IS NULL)"
            f" FROM retirees r WHERE {alive} GROUP BY r.unit_id)")
    heads = "heads(unit_id, n) AS (SELECT unit_id, count(*) FROM team GROUP BY unit_id)"
    served = f"""served(staff_id, retiree_id, contact, visit) AS (
  SELECT c.staff_id, c.retiree_id, 1, 0 FROM contacts c, period p
   WHERE {in_scope("c.unit_id")} AND c.contacted_on BETWEEN p.m0 AND p.m1 AND c.staff_id IS NOT NULL
  UNION ALL
  SELECT v.staff_id, v.retiree_id, 0, 1 FROM visits v, period p
   WHERE {in_scope("v.unit_id")} AND v.visited_on BETWEEN p.m0 AND p.m1 AND v.staff_id IS NOT NULL
)"""
    work = ("work(staff_id, people, contacts, visits) AS (SELECT staff_id, count(DISTINCT retiree_id),"
            " sum(contact), sum(visit) FROM served GROUP BY staff_id)")
    n = "coalesce(c.n, 0)"
    sql = with_clause(extra=(team, cases, load, heads, served, work)) + f"""SELECT u.code AS "单位代码", u.name AS "单位",
  {ident.staff('s')}, {label(E.STAFF_ROLE, 's.role')} AS "类型", {n} AS "负责联系人数", {CASELOAD} AS "标准",
  CASE WHEN {n} > {CASELOAD} THEN '超过' ELSE '' END AS "是否超过标准",
  coalesce(w.people, 0) AS "本月服务人数", coalesce(w.contacts, 0) AS "本月联系次数", coalesce(w.visits, 0) AS "本月走访次数",
  coalesce(l.retirees, 0) AS "单位在册人数", h.n AS "单位在岗工作人员",
  round(1.0 * coalesce(l.retirees, 0) / h.n, 1) AS "单位人均", coalesce(l.unassigned, 0) AS "单位未分配联系人的人数"
FROM team s JOIN units u ON u.id = s.unit_id JOIN heads h ON h.unit_id = s.unit_id
  LEFT JOIN load l ON l.unit_id = s.unit_id LEFT JOIN cases c ON c.staff_id = s.id
  LEFT JOIN work w ON w.staff_id = s.id
ORDER BY u.code, s.id"""
    return CannedQuery(
        "caseload", f"工作人员服务量(对照每人{CASELOAD}名)",
        f"每名在岗专兼职工作人员负责联系的在世离退休干部人数(标准每人{CASELOAD}名),所选月份本人联系、走访的人次和人数;"
        "以及所在单位的在册人数、在岗工作人员数、人均数和尚未分配联系人的人数。", sql, BOTH)


def venues_five_haves(_: Ident) -> CannedQuery:
    haves = [c for c in table("venues").columns if c.name.startswith("has_")]
    missing = " || ".join(f"(CASE WHEN v.{c.name} = 0 THEN {lit(c.zh + '、')} ELSE '' END)" for c in haves)
    any_missing = " OR ".join(f"v.{c.name} = 0" for c in haves)
    sql = with_clause(month=False) + f"""SELECT u.code AS "单位代码", u.name AS "单位", v.id AS "阵地编号",
  v.name AS "阵地名称", v.location AS "地点", rtrim({missing}, '、') AS "缺少", v.inspected_on AS "检查日期"
FROM venues v JOIN units u ON u.id = v.unit_id
WHERE {in_scope('v.unit_id')} AND ({any_missing})
ORDER BY u.code, v.name"""
    return CannedQuery(
        "venues_five_haves", "活动阵地“五有”缺项",
        "“五有”(有活动场所、有配套设施、有书报、有制度栏、有工作档案)缺少任一项的活动阵地。", sql, (UNIT_PARAM,))


def special_lists(_: Ident) -> CannedQuery:
    r = table("retirees")
    lists = (("在册人数", "count(*)"), (E.MARITAL.label("widowed"), "sum(r.marital_status = 'widowed')"),
             ("患病", "sum(r.health_status != 'good' OR r.hospitalised = 1)"),
             (f"高龄({BIRTHDAY_AGE}岁以上)", "sum(r.birth_date <= o.day)"),
             *((r.column(n).zh, f"sum(r.{n})") for n in
               ("living_alone", "disabled", "lost_only_child", "empty_nest", "financial_hardship")))
    old = f"old(day) AS MATERIALIZED (SELECT date(today, '-{BIRTHDAY_AGE} years') FROM period)"
    counts = f"""counts AS (
  SELECT r.unit_id, {', '.join(f'{expr} AS "{name}"' for name, expr in lists)}
  FROM retirees r, old o
  WHERE {in_scope('r.unit_id')} AND r.deceased_on IS NULL
  GROUP BY r.unit_id
)"""
    sql = with_clause(month=False, extra=(old, counts)) + f"""SELECT u.code AS "单位代码", u.name AS "单位",
  {', '.join(f'c."{name}"' for name, _ in lists)}
FROM counts c JOIN units u ON u.id = c.unit_id
ORDER BY u.code"""
    return CannedQuery(
        "special_lists", "特殊名单人数(按单位)",
        "各单位在世离退休干部中独居、丧偶、患病(患慢性病、重症、长期卧床或正在住院)、高龄、失能、失独、空巢、"
        "经济困难的人数。", sql, (UNIT_PARAM,))


PRACTICE_QUERIES = (not_contacted, must_visit_overdue, absent_members, visit_kinds, orders_overdue,
                    menu_fulfilment, targeting_gaps, caseload, venues_five_haves, special_lists)
