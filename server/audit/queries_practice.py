"""Canned queries on the seed's practices: contact, must-visits, study, visits, orders, helps, targeting.

Each function returns the query for one role; only the columns that identify people differ
(:class:`~server.audit.sqlbits.Ident`). Definitions (what counts as "contacted", "in time" …) are in
``docs/audit.md``.
"""

from __future__ import annotations

from schema import enums as E
from schema.definitions import CONDITIONS, TARGETING
from schema.domain_tables import OPEN_ORDER
from schema.tables import table
from server.audit.sqlbits import (
    UNIT_AND_MONTH,
    UNIT_PARAM,
    CannedQuery,
    Ident,
    in_scope,
    label,
    lit,
    unit_in_scope,
    with_clause,
)

MUST_VISIT_EVENTS = tuple(k for k in E.EVENT_KIND.codes() if k != "birthday")
"""Events that call for a visit to the retiree they name: every kind but a recorded birthday (birthdays of
those turning 80 or more come from the birth date, so a recorded one would be listed twice)."""
NOT_A_VISIT = "office_pickup"
"""A visit mode that does not count as visiting: the family collecting the gift at the office (the seed:
电话通知家属到办公室领取, 慰问效果大打折扣)."""
BIRTHDAY_AGE = 80
VISIT_DAYS = 7
CASELOAD = 33
HELP_DAYS = 30


def not_contacted(ident: Ident) -> CannedQuery:
    sql = with_clause() + f"""SELECT u.code AS "单位代码", u.name AS "单位", {ident.retiree('r')},
  {label(E.CATEGORY, 'r.category')} AS "人员类别",
  (SELECT max(c.contacted_on) FROM contacts c WHERE c.retiree_id = r.id AND c.reached = 1
     AND c.contacted_on <= p.m1) AS "最近联系日期"
FROM units u CROSS JOIN period p CROSS JOIN retirees r
WHERE r.unit_id = u.id AND {unit_in_scope('u.id')}
  AND (r.deceased_on IS NULL OR r.deceased_on >= p.m0)
  AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.retiree_id = r.id AND c.reached = 1
                  AND c.contacted_on BETWEEN p.m0 AND p.m1)
ORDER BY u.code, {ident.retiree_order('r')}"""
    return CannedQuery(
        "not_contacted", "本月未联系的离退休干部",
        "每月电话联系一次:所选月份内没有一次“联系上”(本人或家属)记录的在世离退休干部。",
        sql, UNIT_AND_MONTH)


def must_visit_overdue(ident: Ident) -> CannedQuery:
    # Two branches, each walking units in code order (see docs/audit.md, Performance), merged by SQLite
    # in output order: the month's events listed under the unit that recorded them, and the birthdays of
    # those turning 80 or more under the retiree's unit, found through the (unit, birth month) index.
    # ``due`` gives the constants once: the birth month, the first birth date too young to turn 80 this
    # year, and the last event day whose 7-day window has closed. ``days`` gives each day of the month
    # (as a birthday: 'MM-DD', the date, its window and whether it has closed) so the date arithmetic is
    # done 31 times rather than per retiree.
    kinds = ", ".join(lit(k) for k in MUST_VISIT_EVENTS)
    due = f"""due(mm, born_before, cutoff) AS MATERIALIZED (
  SELECT strftime('%m', m0), printf('%04d-01-01', CAST(strftime('%Y', m0) AS INTEGER) - {BIRTHDAY_AGE - 1}),
         date(today, '-{VISIT_DAYS} days') FROM period
)"""
    days = f"""days(md, day, w0, w1, closed) AS MATERIALIZED (
  SELECT md, d, date(d, '-{VISIT_DAYS} days'), date(d, '+{VISIT_DAYS} days'), date(d, '+{VISIT_DAYS} days') < today
  FROM (SELECT p.today AS today, strftime('%m-', p.m0) || printf('%02d', k.n) AS md,
               date(strftime('%Y-%m-', p.m0) || printf('%02d', k.n)) AS d
        FROM period p, dom k)
)"""
    dom = "dom(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM dom WHERE n < 31)"

    def not_visited(who: str, w0: str, w1: str) -> str:
        return (f"NOT EXISTS (SELECT 1 FROM visits v WHERE v.retiree_id = {who} AND v.visited_on BETWEEN {w0} AND {w1}"
                f" AND v.mode IS NOT {lit(NOT_A_VISIT)})")

    closes = f"date(e.occurred_on, '+{VISIT_DAYS} days')"
    events = f"""SELECT u.code AS "单位代码", u.name AS "单位", {ident.retiree('r')},
  {label(E.EVENT_KIND, 'e.kind')} AS "事由", e.occurred_on AS "发生日期", {closes} AS "应访截止",
  CAST(julianday(p.today) - julianday({closes}) AS INTEGER) AS "逾期天数"
FROM units u CROSS JOIN period p CROSS JOIN due d CROSS JOIN life_events e CROSS JOIN retirees r
WHERE e.unit_id = u.id AND {unit_in_scope('u.id')} AND e.kind IN ({kinds})
  AND e.occurred_on BETWEEN p.m0 AND p.m1 AND e.occurred_on < d.cutoff
  AND {not_visited('e.retiree_id', 'e.occurred_on', closes)} AND r.id = e.retiree_id"""
    # A birthday is a day of the (personal) birth date: the auditor role sees only its month.
    when = ("b.day, b.w1, CAST(julianday(p.today) - julianday(b.w1) AS INTEGER)" if ident.role == "senior"
            else "substr(b.day, 1, 7), NULL, NULL")
    births = f"""SELECT u.code, u.name, {ident.retiree('r')},
  '{BIRTHDAY_AGE}岁以上寿辰', {when}
FROM units u CROSS JOIN period p CROSS JOIN due d CROSS JOIN retirees r CROSS JOIN days b
WHERE r.unit_id = u.id AND {unit_in_scope('u.id')}
  AND substr(r.birth_date, 6, 2) = d.mm AND r.birth_date < d.born_before
  AND b.md = substr(r.birth_date, 6, 5) AND b.closed AND (r.deceased_on IS NULL OR r.deceased_on > b.day)
  AND {not_visited('r.id', 'b.w0', 'b.w1')}"""
    sql = (with_clause(extra=(due, dom, days)) + events + "\nUNION ALL\n" + births
           + f'\nORDER BY "单位代码", "发生日期", {ident.retiree_order_columns()}, "事由"')
    return CannedQuery(
        "must_visit_overdue", "六必访逾期未访",
        f"所选月份内登记到人的生病住院、患病、遇到困难、丧葬、反映问题、新领导上任、重要节日事项(事后{VISIT_DAYS}日内,"
        f"列在登记事项的单位下),以及{BIRTHDAY_AGE}岁以上老同志的寿辰(前后{VISIT_DAYS}日内),期限已过仍没有走访记录的;"
        "通知家属到办公室领取的不算走访。寿辰是出生日期的一部分:审计员角色只显示寿辰所在月份。",
        sql, UNIT_AND_MONTH)


def absent_members(ident: Ident) -> CannedQuery:
    # member_absences (kept by triggers, see schema.summary_tables) lists the membership rows absent in the 3
    # months up to each month; the query adds whether the member was living at the end of them, and leaves out
    # a person who under another membership (双重管理: the formal one, or the dual one) attended or was taught
    # at home in the window — absence is of the person, as the report counts home study.
    window = ("win(ym, w0, w1) AS MATERIALIZED (SELECT strftime('%Y-%m', m0), date(m0, '-2 months'), m1"
              " FROM period)")
    sql = with_clause(extra=(window,)) + f"""SELECT u.code AS "单位代码", u.name AS "单位", {ident.retiree('r')},
  b.name AS "所在支部",
  (SELECT count(*) FROM party_meetings mt WHERE mt.branch_id = m.branch_id AND mt.held_on BETWEEN w.w0 AND w.w1)
    AS "期间组织生活次数",
  (SELECT max(mt.held_on) FROM meeting_attendance a JOIN party_meetings mt ON mt.id = a.meeting_id
     WHERE a.member_id = m.id AND a.status = 'present') AS "最近出席日期",
  (SELECT max(h.delivered_on) FROM home_study h WHERE h.member_id = m.id) AS "最近送学日期"
FROM units u CROSS JOIN win w CROSS JOIN member_absences x CROSS JOIN party_members m CROSS JOIN retirees r
  CROSS JOIN party_branches b
WHERE x.unit_id = u.id AND x.ym = w.ym AND {unit_in_scope('u.id')} AND m.id = x.member_id AND r.id = m.retiree_id
  AND b.id = m.branch_id AND (r.deceased_on IS NULL OR r.deceased_on > w.w1)
  AND NOT EXISTS (SELECT 1 FROM party_members o JOIN meeting_attendance a ON a.member_id = o.id
                  JOIN party_meetings mt ON mt.id = a.meeting_id
                  WHERE o.retiree_id = m.retiree_id AND o.id != m.id AND a.status = 'present'
                    AND mt.held_on BETWEEN w.w0 AND w.w1)
  AND NOT EXISTS (SELECT 1 FROM party_members o JOIN home_study h ON h.member_id = o.id
                  WHERE o.retiree_id = m.retiree_id AND o.id != m.id AND h.delivered_on BETWEEN w.w0 AND w.w1)
ORDER BY u.code, {ident.retiree_order('r')}, b.name, m.id"""
    return CannedQuery(
        "absent_members", "党员连续3个月未参加组织生活且未送学上门",
        "截至所选月份的连续3个自然月内,所在支部开过组织生活而本人一次也未出席,且这期间没有送学上门记录的党员。",
        sql, UNIT_AND_MONTH)


def branch_meetings(_: Ident) -> CannedQuery:
    # The window's meetings are counted per branch in one pass, each branch's last party lecture in another
    # and its members who had died in a third (all materialized); the branches are then walked in unit-code
    # order.
    kinds = ", ".join(f'sum(kind = {lit(v.code)}) AS "{v.code}"' for v in E.MEETING_KIND.values)
    columns = ", ".join(chr(34) + v.code + chr(34) for v in E.MEETING_KIND.values)
    extra = (
        "win(w0, w1) AS MATERIALIZED (SELECT date(m0, '-2 months'), m1 FROM period)",
        f"held(branch_id, {columns}) AS MATERIALIZED (SELECT branch_id, {kinds} FROM party_meetings, win"
        " WHERE held_on BETWEEN w0 AND w1 GROUP BY branch_id)",
        "lectured(branch_id, last) AS MATERIALIZED (SELECT branch_id, max(held_on) FROM party_meetings, win"
        " WHERE kind = 'lecture' AND held_on <= w1 GROUP BY branch_id)",
        # members who had died by the window's end, per branch: the few dead, found unit by unit through the
        # retirees' (unit_id, deceased_on, ...) index, rather than a look-up of every member's retiree
        "departed(branch_id, n) AS MATERIALIZED (SELECT m.branch_id, count(*) FROM win CROSS JOIN units ud"
        " CROSS JOIN retirees r CROSS JOIN party_members m ON m.retiree_id = r.id WHERE r.unit_id = ud.id"
        " AND r.deceased_on > '' AND r.deceased_on <= win.w1 GROUP BY m.branch_id)",
    )
    counts = ",\n  ".join(f'coalesce(h."{v.code}", 0) AS "{v.zh}"' for v in E.MEETING_KIND.values)
    sql = with_clause(extra=extra) + f"""SELECT u.code AS "单位代码", u.name AS "单位", b.id AS "支部编号", b.name AS "支部",
  {label(E.BRANCH_KIND, 'b.kind')} AS "支部类型",
  (SELECT count(*) FROM party_members m WHERE m.branch_id = b.id) - coalesce(x.n, 0) AS "党员数",
  {counts},
  l.last AS "最近一次党课",
  nullif(rtrim(iif(coalesce(h.member_assembly, 0) = 0, '未开支部党员大会;', '')
    || iif(coalesce(h.lecture, 0) = 0, '未上党课;', ''), ';'), '') AS "缺项"
FROM units u CROSS JOIN party_branches b LEFT JOIN held h ON h.branch_id = b.id
  LEFT JOIN lectured l ON l.branch_id = b.id LEFT JOIN departed x ON x.branch_id = b.id
WHERE b.unit_id = u.id AND {unit_in_scope('u.id')}
ORDER BY u.code, b.name, b.id"""
    return CannedQuery(
        "branch_meetings", "党支部“三会一课”落实情况(近3个月)",
        "截至所选月份的连续3个自然月内,每个离退休干部党支部召开支部党员大会、支部委员会、党小组会,上党课、"
        "民主评议党员和主题学习的次数,党员数(期末在世),以及最近一次党课的日期;“缺项”列出这期间未开支部党员大会、"
        "未上党课的情况(两者一般每季度至少一次)。", sql, UNIT_AND_MONTH)


def visit_kinds(_: Ident) -> CannedQuery:
    counts = ",\n  ".join(f"sum(v.kind = {lit(k.code)}) AS \"{k.zh}\"" for k in E.VISIT_KIND.values)
    sql = with_clause() + f"""SELECT u.code AS "单位代码", u.name AS "单位", count(*) AS "走访次数",
  {counts},
  round(100.0 * sum(v.kind IN ('material', 'both')) / count(*), 1) AS "含物质慰问占比(%)",
  round(100.0 * sum(v.kind IN ('spiritual', 'both')) / count(*), 1) AS "含精神慰问占比(%)",
  sum(v.policy_conveyed) AS "传达政策次数"
FROM units u CROSS JOIN period p CROSS JOIN visits v
WHERE v.unit_id = u.id AND {unit_in_scope('u.id')} AND v.visited_on BETWEEN p.m0 AND p.m1
GROUP BY u.code ORDER BY u.code"""
    return CannedQuery(
        "visit_kinds", "物质慰问与精神慰问占比(按单位)",
        "所选月份各单位的走访次数及物质、精神慰问的构成,检查是否“物质慰问多、精神慰问少”。",
        sql, UNIT_AND_MONTH)


def orders_overdue(ident: Ident) -> CannedQuery:
    sql = with_clause(month=False) + f"""SELECT u.code AS "单位代码", u.name AS "单位", o.id AS "订单编号",
  {ident.retiree('r')}, {label(E.MENU_ITEM, 'o.item')} AS "服务项目", {label(E.ORDER_STATUS, 'o.status')} AS "状态",
  o.requested_on AS "下单日期",
  CAST(julianday((SELECT today FROM period)) - julianday(o.requested_on) AS INTEGER) AS "已等待天数",
  {ident.staff('s', '承接人')}
FROM service_orders o JOIN retirees r ON r.id = o.retiree_id JOIN units u ON u.id = o.unit_id
  LEFT JOIN staff s ON s.id = o.assigned_to
WHERE {OPEN_ORDER.replace('status', 'o.status')} AND o.requested_on < (SELECT date(today, '-14 days') FROM period)
  AND {unit_in_scope('o.unit_id')}
ORDER BY o.requested_on, o.id"""
    return CannedQuery(
        "orders_overdue", "超过14天未完成的服务订单",
        "待派单或已派单、下单已超过14天仍未完成的服务订单。", sql, (UNIT_PARAM,))


def helps_open(ident: Ident) -> CannedQuery:
    sql = with_clause(month=False) + f"""SELECT u.code AS "单位代码", u.name AS "单位", h.id AS "事项编号",
  {ident.retiree('r')}, {label(E.HELP_KIND, 'h.kind')} AS "帮助类别", h.raised_on AS "提出日期",
  CAST(julianday((SELECT today FROM period)) - julianday(h.raised_on) AS INTEGER) AS "已等待天数",
  {ident.staff('s', '经办人')}
FROM three_helps h JOIN retirees r ON r.id = h.retiree_id JOIN units u ON u.id = h.unit_id
  LEFT JOIN staff s ON s.id = h.staff_id
WHERE h.status = 'open' AND h.raised_on < (SELECT date(today, '-{HELP_DAYS} days') FROM period)
  AND {unit_in_scope('h.unit_id')}
ORDER BY h.raised_on, h.id"""
    return CannedQuery(
        "helps_open", f"超过{HELP_DAYS}天仍在办理的三帮助事项",
        f"三帮助(切身利益帮助落实、生活困难帮助解决、思想疙瘩帮助解开):状态为“办理中”、提出已超过{HELP_DAYS}天的事项,"
        "按提出日期排列(已解决、已转办、未能解决的不列)。", sql, (UNIT_PARAM,))


def menu_fulfilment(_: Ident) -> CannedQuery:
    menu = ", ".join(f"({lit(v.code)}, {lit(v.zh)}, {i})" for i, v in enumerate(E.MENU_ITEM.values))
    # Orders are counted per item first (one pass over the month's orders through a covering index),
    # then joined to the menu, so that items nobody ordered still show.
    sql = with_clause(extra=(f"menu(item, zh, ord) AS (VALUES {menu})",)) + f"""SELECT m.zh AS "服务项目",
  coalesce(a.n, 0) AS "订单数", coalesce(a.fulfilled, 0) AS "已完成",
  coalesce(a.cancelled, 0) AS "已取消", coalesce(a.waiting, 0) AS "未完成",
  round(100.0 * a.fulfilled / nullif(a.n - a.cancelled, 0), 1) AS "完成率(%)",
  round(a.days, 1) AS "平均完成天数",
  round(a.satisfaction, 2) AS "平均满意度"
FROM menu m LEFT JOIN (
  SELECT o.item, count(*) AS n, sum(o.status = 'fulfilled') AS fulfilled, sum(o.status = 'cancelled') AS cancelled,
    sum(o.status IN ('open', 'assigned')) AS waiting,
    avg(CASE WHEN o.status = 'fulfilled' THEN julianday(o.fulfilled_on) - julianday(o.requested_on) END) AS days,
    avg(o.satisfaction) AS satisfaction
  FROM service_orders o, period p
  WHERE {in_scope('o.unit_id')} AND o.requested_on BETWEEN p.m0 AND p.m1
  GROUP BY o.item
) a ON a.item = m.item
ORDER BY m.ord"""
    return CannedQuery(
        "menu_fulfilment", "各服务项目的订单完成率",
        "所选月份下单的服务订单,按菜单项统计:完成率 = 已完成 ÷(订单数 − 已取消)。", sql, UNIT_AND_MONTH)


_GAP = {"comfort": "精神慰藉", "health": "医疗保健", "homecare": "上门照顾"}
"""The gap's label per targeting rule (:data:`schema.definitions.TARGETING`)."""


def targeting_gaps(ident: Ident) -> CannedQuery:
    since = "date(p.today, '-90 days')"
    order = ("SELECT 1 FROM service_orders o WHERE o.retiree_id = r.id AND o.item = {item} AND o.status != 'cancelled'"
             f" AND (o.requested_on >= {since} OR o.fulfilled_on >= {since})")
    reason = ""
    if ident.role == "senior":
        parts = " || ".join(f"(CASE WHEN {CONDITIONS[c].at('p.today')} THEN {lit(CONDITIONS[c].zh + ' ')} ELSE '' END)"
                            for rule in TARGETING for c in rule.conditions)
        reason = f', trim({parts}) AS "原因"'
    base = ("FROM units u CROSS JOIN period p CROSS JOIN retirees r\n"
            f"WHERE r.unit_id = u.id AND {unit_in_scope('u.id')} AND r.deceased_on IS NULL")

    def head(gap: str) -> str:
        return f'SELECT u.code AS "单位代码", u.name AS "单位", {ident.retiree("r")}, {lit(gap)} AS "缺口"{reason}'

    # Emotional comfort also counts a spiritual visit (精神慰问) in the window as the need met.
    extra = {"comfort": f"""
  AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.retiree_id = r.id AND v.kind IN ('spiritual', 'both')
                  AND v.visited_on >= {since})"""}
    gaps = "\nUNION ALL\n".join(
        f"""{head(_GAP[rule.code])}
{base} AND {rule.at('p.today')}
  AND NOT EXISTS ({order.format(item=lit(rule.item))}){extra.get(rule.code, '')}""" for rule in TARGETING)
    sql = with_clause(month=False) + f"""SELECT * FROM (
{gaps}
) ORDER BY "单位代码", "缺口", "编号\""""
    return CannedQuery(
        "targeting_gaps", "精准服务缺口(精神慰藉、医疗保健、上门照顾)",
        "丧偶或长期卧床、90天内没有精神慰藉订单也没有精神慰问走访的;正在住院、重症或长期住院、90天内没有医疗保健订单的;"
        "不能参加集中活动、90天内没有上门生活照顾订单的。",
        sql, (UNIT_PARAM,))


def caseload(ident: Ident) -> CannedQuery:
    # One row per staff member, walking units in code order (so Datasette's first rows come without
    # computing the whole province); every figure is an index lookup for that staff member or unit.
    alive = "r.deceased_on IS NULL"
    cases = ("(SELECT count(*) FROM retirees r WHERE r.caseworker_id = s.id"
             f" AND {alive} AND {unit_in_scope('r.unit_id')})")
    # the unit's figures from the summary kept by triggers (no row: no living retiree)
    retirees = "coalesce((SELECT c.living FROM unit_special_counts c WHERE c.unit_id = s.unit_id), 0)"
    unassigned = "coalesce((SELECT c.no_caseworker FROM unit_special_counts c WHERE c.unit_id = s.unit_id), 0)"
    heads = ("(SELECT count(*) FROM staff t WHERE t.unit_id = s.unit_id AND t.active = 1"
             " AND t.role != 'supervisor')")
    contacts = ("SELECT c.retiree_id, 1 AS contact, NULL AS visit FROM contacts c WHERE c.staff_id = s.id"
                f" AND c.contacted_on BETWEEN p.m0 AND p.m1 AND {unit_in_scope('c.unit_id')}")
    visits = ("SELECT v.retiree_id, NULL, 1 FROM visits v WHERE v.staff_id = s.id"
              f" AND v.visited_on BETWEEN p.m0 AND p.m1 AND {unit_in_scope('v.unit_id')}")
    # The inner query walks units in code order and runs as a co-routine (``LIMIT -1`` keeps SQLite from
    # flattening it, which would evaluate each subquery once per use), so rows stream in order. One pass
    # over the staff member's contacts and visits gives people, contacts and visits (as a JSON triple).
    sql = with_clause() + f"""SELECT x.unit_code AS "单位代码", x.unit_name AS "单位",
  {ident.staff('x')}, {label(E.STAFF_ROLE, 'x.role')} AS "类型", x.cases AS "负责联系人数", {CASELOAD} AS "标准",
  CASE WHEN x.cases > {CASELOAD} THEN '超过' ELSE '' END AS "是否超过标准",
  json_extract(x.work, '$[0]') AS "本月服务人数", json_extract(x.work, '$[1]') AS "本月联系次数",
  json_extract(x.work, '$[2]') AS "本月走访次数",
  x.retirees AS "单位在册人数", x.heads AS "单位在岗工作人员",
  round(1.0 * x.retirees / x.heads, 1) AS "单位人均", x.unassigned AS "单位未分配联系人的人数"
FROM (
  SELECT u.code AS unit_code, u.name AS unit_name, s.id AS id, s.name AS name, s.role AS role, {cases} AS cases,
    (SELECT json_array(count(DISTINCT y.retiree_id), count(y.contact), count(y.visit))
       FROM ({contacts} UNION ALL {visits}) y) AS work,
    {retirees} AS retirees, {heads} AS heads, {unassigned} AS unassigned
  FROM units u CROSS JOIN period p CROSS JOIN staff s
  WHERE s.unit_id = u.id AND {unit_in_scope('u.id')} AND s.active = 1 AND s.role != 'supervisor'
  ORDER BY u.code, s.id LIMIT -1
) x"""
    return CannedQuery(
        "caseload", f"工作人员服务量(对照每人{CASELOAD}名)",
        f"每名在岗专兼职工作人员负责联系的在世离退休干部人数(标准每人{CASELOAD}名),所选月份本人联系、走访的人次和人数;"
        "以及所在单位的在册人数、在岗工作人员数、人均数和尚未分配联系人的人数。", sql, UNIT_AND_MONTH)


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
    # From the per-unit summaries kept by triggers (schema.summary_tables): a unit has a row while it has a
    # living retiree. 80 and over: the birth years before the boundary year, plus that year up to the day.
    r = table("retirees")
    lists = (("在册人数", "c.living"), (E.MARITAL.label("widowed"), "c.widowed"), ("患病", "c.ill"),
             (f"高龄({BIRTHDAY_AGE}岁以上)", "coalesce((SELECT sum(y.living) FROM unit_birth_years y"
              " WHERE y.unit_id = u.id AND y.birth_year < o.y), 0) + coalesce(e.n, 0)"),
             *((r.column(n).zh, f"c.{col}") for n, col in
               (("living_alone", "living_alone"), ("disabled", "disabled"), ("lost_only_child", "lost_only_child"),
                ("empty_nest", "empty_nest"), ("financial_hardship", "hardship"))))
    old = (f"old(day, y) AS MATERIALIZED (SELECT d, CAST(strftime('%Y', d) AS INTEGER)"
           f" FROM (SELECT date(today, '-{BIRTHDAY_AGE} years') AS d FROM period))")
    edge = ("edge(unit_id, n) AS MATERIALIZED (SELECT r.unit_id, count(*) FROM old o, retirees r"
            " WHERE r.birth_date BETWEEN printf('%04d-01-01', o.y) AND o.day AND r.deceased_on IS NULL"
            " GROUP BY r.unit_id)")
    sql = with_clause(month=False, extra=(old, edge)) + f"""SELECT u.code AS "单位代码", u.name AS "单位",
  {', '.join(f'{expr} AS "{name}"' for name, expr in lists)}
FROM units u CROSS JOIN old o CROSS JOIN unit_special_counts c LEFT JOIN edge e ON e.unit_id = u.id
WHERE c.unit_id = u.id AND {unit_in_scope('u.id')}
ORDER BY u.code"""
    return CannedQuery(
        "special_lists", "特殊名单人数(按单位)",
        "各单位在世离退休干部中独居、丧偶、患病(患慢性病、重症、长期卧床或正在住院)、高龄、失能、失独、空巢、"
        "经济困难的人数。", sql, (UNIT_PARAM,))


PRACTICE_QUERIES = (not_contacted, must_visit_overdue, absent_members, branch_meetings, visit_kinds, orders_overdue, helps_open,
                    menu_fulfilment, targeting_gaps, caseload, venues_five_haves, special_lists)
