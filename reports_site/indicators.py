"""SQL → values: every count, rate, median and trend of :mod:`reports_site.definitions`, per unit.

Rows are counted where they belong (:func:`direct_values`), then summed up the unit tree
(:func:`rollup`), so a parent's numbers are exactly the sum of its sub-units' and its own ("本级").
Retiree-centred measures (who is alive, contacted, covered, in the four-nearby service) use the
retiree's unit; counts of records (visits, deliveries, helps, orders, meetings and their attendance)
use the record's own unit; a staff member's contacts and visits of the month count at the staff
member's unit. Only aggregates leave SQL, except the days from order to fulfilment, kept per unit
until the medians are taken.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from reports_site.definitions import AGE_BANDS, EVENT_OCCASION, LISTS, MUST_VISITS, NEARBY_LISTS, TARGETS
from reports_site.period import Period
from reports_site.units import SELF, UnitTree
from schema.definitions import CONDITIONS, RANKS_CTE, category_rank
from schema.enums import MUST_KIND

_ALIVE = "(r.deceased_on IS NULL OR r.deceased_on > :end)"
_AGE = ("(CAST(strftime('%Y', :end) AS INTEGER) - CAST(strftime('%Y', r.birth_date) AS INTEGER)"
        " - (strftime('%m-%d', :end) < strftime('%m-%d', r.birth_date)))")
_LIST_SQL = {k: CONDITIONS[k].at(":end") for k, _, _ in LISTS}
"""Each named list's condition (:data:`schema.definitions.CONDITIONS`), judged at the report month's end."""
_NEARBY = "(" + " OR ".join(_LIST_SQL[k] for k in NEARBY_LISTS) + ")"
_OCCASION_OF = "CASE e.kind " + " ".join(f"WHEN '{k}' THEN '{o}'" for k, o in EVENT_OCCASION) + " END"
_IN_7_DAYS = "v.visited_on BETWEEN e.occurred_on AND date(e.occurred_on, '+7 days')"
_NOTICE_REACH = f"""WITH RECURSIVE {RANKS_CTE}, reach(notice_id, unit_id, due_by, top) AS (
  SELECT id, unit_id, due_by, {category_rank('for_category')} FROM notices WHERE due_by BETWEEN :ystart AND :end
  UNION ALL SELECT r.notice_id, u.id, r.due_by, r.top FROM reach r JOIN units u ON u.parent_id = r.unit_id
)
SELECT x.unit_id, COUNT(*), SUM(EXISTS (SELECT 1 FROM three_musts t WHERE t.notice_id = r.notice_id
  AND t.retiree_id = x.id AND t.delivered_on <= r.due_by))
FROM reach r CROSS JOIN ranks k CROSS JOIN retirees x
WHERE k.rank <= r.top AND x.unit_id = r.unit_id AND x.category = k.code
  AND (x.deceased_on IS NULL OR x.deceased_on > r.due_by)
GROUP BY 1"""
"""Per retiree's unit: (notice, retiree) pairs due in the 12 months — each notice due then, each retiree of
its unit or a unit below it, of its category or above, living on its due date — and those delivered by then."""


@dataclass
class Values:
    """One unit's numbers: counts, (numerator, denominator) pairs, samples for medians, trends."""

    counts: dict[str, int] = field(default_factory=dict)
    ratios: dict[str, list[int]] = field(default_factory=dict)
    samples: dict[str, list[int]] = field(default_factory=dict)
    trends: dict[str, list[list[int]]] = field(default_factory=dict)

    def count(self, name: str, n: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + int(n)

    def ratio(self, key: str, num: int, den: int) -> None:
        pair = self.ratios.setdefault(key, [0, 0])
        pair[0] += int(num)
        pair[1] += int(den)

    def trend(self, key: str, month_index: int, num: int, den: int, months: int) -> None:
        series = self.trends.setdefault(key, [[0, 0] for _ in range(months)])
        series[month_index][0] += int(num)
        series[month_index][1] += int(den)

    def add(self, other: Values) -> None:
        for k, n in other.counts.items():
            self.count(k, n)
        for k, (num, den) in other.ratios.items():
            self.ratio(k, num, den)
        for k, xs in other.samples.items():
            self.samples.setdefault(k, []).extend(xs)
        for k, series in other.trends.items():
            for i, (num, den) in enumerate(series):
                self.trend(k, i, num, den, len(series))

    def get(self, name: str) -> int:
        return self.counts.get(name, 0)

    def pair(self, key: str) -> tuple[int, int]:
        num, den = self.ratios.get(key, (0, 0))
        return num, den


def median(xs: Iterable[int]) -> float | None:
    s = sorted(xs)
    if not s:
        return None
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def _params(period: Period) -> dict[str, str]:
    return {"end": period.end.isoformat(), "mstart": period.start.isoformat(), "ystart": period.year_start.isoformat(),
            "rstart": period.recent_start.isoformat(), "lastev": period.last_event_day.isoformat()}


def _month_ends(period: Period) -> list[str]:
    out = []
    for m in period.months:
        y, mo = int(m[:4]), int(m[5:])
        nxt = date(y + (mo == 12), mo % 12 + 1, 1)
        out.append(date.fromordinal(nxt.toordinal() - 1).isoformat())
    return out


class _Direct:
    """Accumulates values per unit id while the queries run."""

    def __init__(self, months: int) -> None:
        self.by_unit: dict[str, Values] = {}
        self.months = months

    def __getitem__(self, unit_id: object) -> Values:
        key = str(unit_id)
        v = self.by_unit.get(key)
        if v is None:
            v = self.by_unit[key] = Values()
        return v


def _roster(conn: sqlite3.Connection, p: dict[str, str], out: _Direct) -> None:
    band = "CASE WHEN age < 60 THEN 'lt60' WHEN age >= 90 THEN '90' ELSE CAST(age / 5 * 5 AS TEXT) END"
    lists = ", ".join(f"SUM({_LIST_SQL[k]})" for k, _, _ in LISTS)
    sql = (f"SELECT unit_id, category, {band}, COUNT(*), SUM({_NEARBY}), SUM({_NEARBY} AND r.four_nearby = 1),"
           f" {lists} FROM "
           f"(SELECT r.*, {_AGE} AS age FROM retirees r WHERE {_ALIVE}) AS r GROUP BY 1, 2, 3")
    known = {k for k, _ in AGE_BANDS}
    for unit_id, category, b, n, target, enrolled, *flags in conn.execute(sql, p):
        v = out[unit_id]
        v.count("retirees", n)
        v.count("nearby_target", target or 0)
        v.count("nearby_enrolled", enrolled or 0)
        v.count(f"cat:{category}", n)
        v.count(f"age:{b if b in known else 'lt60'}", n)
        for (k, _, _), f in zip(LISTS, flags, strict=True):
            v.count(f"list:{k}", f or 0)
    targets = ", ".join(
        f"SUM({cond}), SUM(CASE WHEN {cond} THEN EXISTS (SELECT 1 FROM service_orders o WHERE o.retiree_id = r.id"
        f" AND o.item = '{item}' AND o.status != 'cancelled' AND o.fulfilled_on BETWEEN :rstart AND :end)"
        " ELSE 0 END)" for _, _, item, cond in TARGETS)
    for unit_id, *pairs in conn.execute(f"SELECT unit_id, {targets} FROM retirees r WHERE {_ALIVE} GROUP BY 1", p):
        for i, (k, _, _, _) in enumerate(TARGETS):
            out[unit_id].ratio(f"target:{k}", pairs[2 * i + 1] or 0, pairs[2 * i] or 0)
    # one row per member (a person), whatever their memberships: formal in one branch (一方隶属), possibly also
    # managed by special branches (双重管理); home study under any of them reaches the person
    sql = ("SELECT r.unit_id, COUNT(*), SUM(r.can_attend = 0), SUM(CASE WHEN r.can_attend = 0 THEN EXISTS"
           " (SELECT 1 FROM party_members m JOIN home_study h ON h.member_id = m.id WHERE m.retiree_id = r.id"
           " AND h.delivered_on BETWEEN :rstart AND :end) ELSE 0 END),"
           " SUM(EXISTS (SELECT 1 FROM party_members m WHERE m.retiree_id = r.id AND m.relation = 'dual'))"
           f" FROM (SELECT DISTINCT retiree_id FROM party_members) p JOIN retirees r ON r.id = p.retiree_id"
           f" WHERE {_ALIVE} GROUP BY 1")
    for unit_id, members, need, reached, dual in conn.execute(sql, p):
        v = out[unit_id]
        v.count("members", members)
        v.count("members_dual", dual or 0)
        v.count("home_need", need or 0)
        v.ratio("home_study", reached or 0, need or 0)


def _contacts(conn: sqlite3.Connection, period: Period, p: dict[str, str], out: _Direct) -> None:
    ends = _month_ends(period)
    index = {m: i for i, m in enumerate(period.months)}
    alive = ", ".join(f"SUM(deceased_on IS NULL OR deceased_on > '{e}')" for e in ends)
    for unit_id, *dens in conn.execute(f"SELECT unit_id, {alive} FROM retirees GROUP BY 1"):
        for i, den in enumerate(dens):
            out[unit_id].trend("contact", i, 0, den or 0, out.months)
    sql = ("SELECT r.unit_id, substr(c.contacted_on, 1, 7), COUNT(DISTINCT c.retiree_id) FROM contacts c"
           " JOIN retirees r ON r.id = c.retiree_id WHERE c.reached = 1 AND c.contacted_on BETWEEN :ystart AND :end"
           " AND (r.deceased_on IS NULL OR r.deceased_on > date(c.contacted_on, 'start of month', '+1 month',"
           " '-1 day')) GROUP BY 1, 2")
    for unit_id, month, n in conn.execute(sql, p):
        if month in index:
            out[unit_id].trend("contact", index[month], n, 0, out.months)
    last = len(period.months) - 1
    for v in out.by_unit.values():
        if "contact" in v.trends:
            num, den = v.trends["contact"][last]
            v.ratio("contact", num, den)


def _visits(conn: sqlite3.Connection, period: Period, p: dict[str, str], out: _Direct) -> None:
    sql = ("SELECT unit_id, kind, COUNT(*), SUM(policy_conveyed), SUM(mode = 'office_pickup') FROM visits"
           " WHERE visited_on BETWEEN :ystart AND :end GROUP BY 1, 2")
    for unit_id, kind, n, policy, pickup in conn.execute(sql, p):
        v = out[unit_id]
        v.count("visits", n)
        v.ratio("spiritual_share", n if kind in ("spiritual", "both") else 0, n)
        v.ratio("material_share", n if kind in ("material", "both") else 0, n)
        v.ratio("policy_share", policy or 0, n)
        v.ratio("pickup_share", pickup or 0, n)
    index = {m: i for i, m in enumerate(period.months)}
    sql = ("SELECT unit_id, substr(visited_on, 1, 7), COUNT(*), SUM(kind IN ('spiritual', 'both')) FROM visits"
           " WHERE visited_on BETWEEN :ystart AND :end GROUP BY 1, 2")
    for unit_id, month, n, spiritual in conn.execute(sql, p):
        if month in index:
            out[unit_id].trend("spiritual_share", index[month], spiritual or 0, n, out.months)
    sql = (f"SELECT COALESCE(r.unit_id, e.unit_id), {_OCCASION_OF}, COUNT(*), SUM("
           f"EXISTS (SELECT 1 FROM visits v WHERE v.event_id = e.id AND {_IN_7_DAYS}) OR (e.retiree_id IS NOT NULL"
           f" AND EXISTS (SELECT 1 FROM visits v WHERE v.retiree_id = e.retiree_id AND v.occasion = {_OCCASION_OF}"
           f" AND {_IN_7_DAYS}))) FROM life_events e LEFT JOIN retirees r ON r.id = e.retiree_id"
           " WHERE e.occurred_on BETWEEN :ystart AND :lastev GROUP BY 1, 2")
    for unit_id, occasion, n, on_time in conn.execute(sql, p):
        if occasion in MUST_VISITS:
            out[unit_id].ratio(f"timely:{occasion}", on_time or 0, n)
            out[unit_id].ratio("timely", on_time or 0, n)


def _musts_and_orders(conn: sqlite3.Connection, p: dict[str, str], out: _Direct) -> None:
    for unit_id, kind, n in conn.execute(
            "SELECT unit_id, kind, COUNT(*) FROM three_musts WHERE delivered_on BETWEEN :ystart AND :end"
            " GROUP BY 1, 2", p):
        out[unit_id].count("musts", n)
        out[unit_id].count(f"musts:{kind}", n)
    reached: dict[tuple[str, str], int] = {}
    for unit_id, kind, n in conn.execute(
            "SELECT r.unit_id, t.kind, COUNT(DISTINCT t.retiree_id) FROM three_musts t JOIN retirees r"
            f" ON r.id = t.retiree_id WHERE t.delivered_on BETWEEN :ystart AND :end AND {_ALIVE} GROUP BY 1, 2", p):
        reached[(str(unit_id), str(kind))] = int(n)
    for unit_id, v in list(out.by_unit.items()):
        for kind in MUST_KIND.codes():
            v.ratio(f"musts_cov:{kind}", reached.pop((unit_id, kind), 0), v.get("retirees"))
    for (unit_id, kind), n in sorted(reached.items()):  # retirees of units with nobody alive: impossible
        out[unit_id].ratio(f"musts_cov:{kind}", n, 0)
    for unit_id, n in conn.execute("SELECT unit_id, COUNT(*) FROM notices WHERE due_by BETWEEN :ystart AND :end"
                                   " GROUP BY 1", p):
        out[unit_id].count("notices", n)
    for unit_id, due, on_time in conn.execute(_NOTICE_REACH, p):
        out[unit_id].ratio("notice_reach", on_time or 0, due)
    done = "status != 'cancelled' AND fulfilled_on IS NOT NULL AND fulfilled_on <= :end"
    for unit_id, item, n, cancelled, fulfilled, provided in conn.execute(
            f"SELECT unit_id, item, COUNT(*), SUM(status = 'cancelled'), SUM({done}),"
            f" SUM({done} AND provider_id IS NOT NULL) FROM service_orders"
            " WHERE requested_on BETWEEN :ystart AND :end GROUP BY 1, 2", p):
        v = out[unit_id]
        v.ratio("provider_share", provided or 0, fulfilled or 0)
        v.count("orders", n)
        v.count(f"orders:{item}", n)
        for key in (f"fulfil:{item}", "fulfil"):
            v.ratio(key, fulfilled or 0, n - (cancelled or 0))
    for unit_id, item, days in conn.execute(
            "SELECT unit_id, item, MAX(0, CAST(julianday(fulfilled_on) - julianday(requested_on) AS INTEGER))"
            f" FROM service_orders WHERE requested_on BETWEEN :ystart AND :end AND {done}", p):
        v = out[unit_id]
        v.samples.setdefault(f"days:{item}", []).append(int(days))
        v.samples.setdefault("days", []).append(int(days))


def _resources(conn: sqlite3.Connection, p: dict[str, str], out: _Direct) -> None:
    """Staff (with their contacts and visits in the report month), venues, community resources."""
    active = "s.active = 1 AND s.role IN ('full_time', 'part_time')"
    for unit_id, n in conn.execute(f"SELECT s.unit_id, COUNT(*) FROM staff s WHERE {active} GROUP BY 1"):
        out[unit_id].count("staff", n)
    for table, day, key in (("contacts", "contacted_on", "contacts_per_staff"), ("visits", "visited_on",
                                                                                 "visits_per_staff")):
        for unit_id, n in conn.execute(f"SELECT s.unit_id, COUNT(*) FROM {table} x JOIN staff s ON s.id = x.staff_id"
                                       f" WHERE x.{day} BETWEEN :mstart AND :end AND {active} GROUP BY 1", p):
            out[unit_id].ratio(key, n, 0)
    for unit_id, n in conn.execute("SELECT unit_id, COUNT(*) FROM community_resources WHERE active = 1 GROUP BY 1"):
        out[unit_id].count("resources", n)
    five = " AND ".join(f"{c} = 1" for c in ("has_site", "has_facilities", "has_books", "has_rules_board",
                                               "has_archive"))
    for unit_id, n, ok in conn.execute(f"SELECT unit_id, COUNT(*), SUM({five}) FROM venues GROUP BY 1"):
        out[unit_id].count("venues", n)
        out[unit_id].count("venues_five", ok or 0)


def _helps_and_party(conn: sqlite3.Connection, p: dict[str, str], out: _Direct) -> None:
    """Three helps raised in the 12 months (and resolved by the month's end); branches and party groups; meetings held in
    the 12 months by kind, with their attendance records."""
    resolved = "status = 'resolved' AND resolved_on IS NOT NULL AND resolved_on <= :end"
    for unit_id, kind, n, done in conn.execute(
            f"SELECT unit_id, kind, COUNT(*), SUM({resolved}) FROM three_helps"
            " WHERE raised_on BETWEEN :ystart AND :end GROUP BY 1, 2", p):
        v = out[unit_id]
        v.count("helps", n)
        v.count(f"helps:{kind}", n)
        v.count("helps_resolved", done or 0)
    for unit_id, n, special in conn.execute(
            "SELECT unit_id, COUNT(*), SUM(kind = 'special') FROM party_branches GROUP BY 1"):
        out[unit_id].count("branches", n)
        out[unit_id].count("branches_special", special or 0)
    for unit_id, n in conn.execute("SELECT unit_id, COUNT(*) FROM party_groups GROUP BY 1"):
        out[unit_id].count("groups", n)
    for unit_id, kind, n, rows, present in conn.execute(
            "SELECT m.unit_id, m.kind, COUNT(DISTINCT m.id), COUNT(a.id), SUM(a.status = 'present')"
            " FROM party_meetings m LEFT JOIN meeting_attendance a ON a.meeting_id = m.id"
            " WHERE m.held_on BETWEEN :ystart AND :end GROUP BY 1, 2", p):
        v = out[unit_id]
        v.count("meetings", n)
        v.count(f"meetings:{kind}", n)
        v.ratio("attendance", present or 0, rows or 0)


def direct_values(conn: sqlite3.Connection, period: Period) -> dict[str, Values]:
    """Each unit's own numbers (rows attached to the unit itself, not to its sub-units)."""
    p = _params(period)
    out = _Direct(len(period.months))
    _roster(conn, p, out)
    _contacts(conn, period, p, out)
    _visits(conn, period, p, out)
    _musts_and_orders(conn, p, out)
    _resources(conn, p, out)
    _helps_and_party(conn, p, out)
    for v in out.by_unit.values():
        v.ratio("member_share", v.get("members"), v.get("retirees"))
        v.ratio("caseload", v.get("retirees"), v.get("staff"))
        v.ratio("five_haves", v.get("venues_five"), v.get("venues"))
        v.ratio("helps_resolved_share", v.get("helps_resolved"), v.get("helps"))
        v.ratio("nearby_share", v.get("nearby_enrolled"), v.get("nearby_target"))
        for key in ("contacts_per_staff", "visits_per_staff"):
            v.ratio(key, 0, v.get("staff"))
    return out.by_unit


def _has_data(v: Values) -> bool:
    return (any(v.counts.values()) or any(den for _, den in v.ratios.values())
            or any(v.samples.values()) or any(den for s in v.trends.values() for _, den in s))


def rollup(tree: UnitTree, direct: dict[str, Values]) -> tuple[UnitTree, dict[str, Values]]:
    """Every unit's totals (own rows plus all sub-units); adds "本级" pseudo units where needed."""
    tree = tree.with_self_units(k for k, v in direct.items() if _has_data(v))
    totals: dict[str, Values] = {}
    for key in reversed(tree.order):
        acc = Values()
        if key.endswith(SELF):
            own = direct.get(key[: -len(SELF)])
            if own is not None:
                acc.add(own)
        else:
            kids = tree.children.get(key, ())
            for kid in kids:
                acc.add(totals[kid])
            own = direct.get(key)
            if own is not None and not any(k.endswith(SELF) for k in kids):
                acc.add(own)
        totals[key] = acc
    return tree, totals
