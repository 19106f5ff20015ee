"""The city profile, generated once for the module: the seed's exact numbers and plausible content."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

import apsw
import pytest

from schema.domain_tables import DOMAIN_TABLES
from schema.enums import MENU_ITEM
from schema.validate import validate_row
from server.db import open_reader
from server.seeddata import generate, idcard, summarise

AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[apsw.Connection]:
    path = tmp_path_factory.mktemp("seed") / "city.db"
    stats = generate(path, "city", 1)
    assert stats.count("retirees") == 12922
    conn = open_reader(path)
    yield conn
    conn.close()


def one(conn: apsw.Connection, sql: str, *args: object) -> Any:
    row = conn.execute(sql, args).fetchone()
    assert row is not None
    return row[0]


def test_city_has_the_seeds_exact_numbers(city: apsw.Connection) -> None:
    by_cat = dict(city.execute("SELECT category, count(*) FROM retirees GROUP BY category").fetchall())
    assert by_cat == {"lixiu": 32, "county_level": 80, "section_level": 810, "general": 12000}
    assert one(city, "SELECT count(*) FROM party_branches") == 66
    # 1,979 members, each with one formal membership (一方隶属); some also managed by a special branch
    assert one(city, "SELECT count(*) FROM party_members WHERE relation = 'formal'") == 1979
    assert one(city, "SELECT count(DISTINCT retiree_id) FROM party_members") == 1979
    dual = one(city, "SELECT count(*) FROM party_members WHERE relation = 'dual'")
    assert 40 < dual < 400
    assert one(city, "SELECT count(*) FROM party_branches b WHERE b.special_basis IN ('residence', 'township_organs',"
                     " 'venue', 'interest', 'association') AND (SELECT count(*) FROM party_members m"
                     " WHERE m.branch_id = b.id AND m.relation = 'dual') < 2") == 0
    assert one(city, "SELECT count(*) FROM party_members d JOIN party_branches b ON b.id = d.branch_id"
                     " WHERE d.relation = 'dual' AND b.kind = 'special'") == dual
    assert one(city, "SELECT count(*) FROM party_members d WHERE d.relation = 'dual' AND d.unit_id <>"
                     " (SELECT r.unit_id FROM retirees r WHERE r.id = d.retiree_id)") == 0
    groups = dict(city.execute("SELECT basis, count(*) FROM party_groups GROUP BY basis").fetchall())
    assert set(groups) == {"residence", "interest", "other"} and sum(groups.values()) > 66
    assert one(city, "SELECT count(*) FROM party_members m JOIN party_groups g ON g.id = m.group_id"
                     " WHERE g.branch_id <> m.branch_id OR g.unit_id <> (SELECT unit_id FROM party_branches b"
                     " WHERE b.id = g.branch_id)") == 0
    assert 0 < one(city, "SELECT count(*) FROM party_members WHERE group_id IS NULL") < 1979
    assert one(city, "SELECT count(*) FROM venues") == 60
    kinds = dict(city.execute("SELECT kind, count(*) FROM party_branches GROUP BY kind").fetchall())
    assert set(kinds) == {"regular", "joint", "special"}
    assert one(city, "SELECT count(*) FROM party_branches WHERE (kind = 'special') <> (special_basis IS NOT NULL)") == 0
    assert one(city, "SELECT count(*) FROM party_branches b WHERE NOT EXISTS "
                     "(SELECT 1 FROM party_members m WHERE m.branch_id = b.id)") == 0


def test_lixiu_average_age_is_over_89(city: apsw.Connection) -> None:
    births = [date.fromisoformat(b) for (b,) in city.execute("SELECT birth_date FROM retirees WHERE category = 'lixiu'")]
    ages = [(AS_OF - b).days / 365.2425 for b in births]
    assert len(ages) == 32
    assert sum(ages) / len(ages) > 89
    others = [r[0] for r in city.execute(
        "SELECT (julianday(?) - julianday(birth_date)) / 365.2425 FROM retirees WHERE category <> 'lixiu'",
        (AS_OF.isoformat(),))]
    assert min(others) >= 55 and max(others) < 96


def test_org_shape_and_caseload(city: apsw.Connection) -> None:
    levels = dict(city.execute("SELECT level, count(*) FROM units GROUP BY level").fetchall())
    assert levels["city"] == 1 and levels["county"] == 8
    assert levels["township"] >= 8 * 9 and levels["department"] >= 8 * 8
    bad = city.execute("""SELECT u.code, p.code FROM units u JOIN units p ON p.id = u.parent_id
                          WHERE u.level IN ('township', 'department') AND p.level = 'county'
                          AND (length(u.code) <> 9 OR substr(u.code, 1, 6) <> p.code)""").fetchall()
    assert bad == []
    names = [r[0] for r in city.execute("SELECT name FROM units WHERE level = 'township'")]
    assert all(n[-1] in "镇乡道" for n in names)
    serving = one(city, "SELECT count(*) FROM staff WHERE role <> 'supervisor' AND active = 1")
    caseload = 12922 / serving
    assert 28 <= caseload <= 40
    per_unit = [r[0] for r in city.execute(
        """SELECT (SELECT count(*) FROM retirees r WHERE r.unit_id = u.id) * 1.0 /
                  (SELECT count(*) FROM staff s WHERE s.unit_id = u.id AND s.active = 1)
           FROM units u WHERE u.level IN ('township', 'department')""")]
    assert max(per_unit) > 50, "some units are understaffed"


def test_id_numbers_are_valid_unique_and_match(city: apsw.Connection) -> None:
    rows = city.execute("""SELECT r.id_number, r.birth_date, r.sex, u.code FROM retirees r
                           JOIN units u ON u.id = r.unit_id""").fetchall()
    assert len({r[0] for r in rows}) == len(rows)
    for number, birth, sex, code in rows:
        assert idcard.is_valid(number), number
        assert idcard.birth_date(number).isoformat() == birth
        assert idcard.sex_of(number) == sex
        assert number[:6] == code[:6]
    assert any(r[0].endswith("X") for r in rows)


def test_every_enum_value_appears(city: apsw.Connection) -> None:
    missing = []
    for t in DOMAIN_TABLES:
        for c in t.columns:
            if c.enum is None:
                continue
            seen = {r[0] for r in city.execute(f'SELECT DISTINCT "{c.name}" FROM "{t.name}"')}
            want = set(c.enum.codes()) - ({"province"} if c.enum.name == "unit_level" else set())
            missing += [f"{t.name}.{c.name}={v}" for v in sorted(want - seen)]
    assert missing == []


def test_rows_satisfy_the_registry(city: apsw.Connection) -> None:
    rng = random.Random(5)
    for t in DOMAIN_TABLES:
        cols = t.column_names()
        rows = city.execute(f'SELECT {", ".join(cols)} FROM "{t.name}"').fetchall()
        assert rows, t.name
        for row in rows[:50] + rng.sample(rows, min(300, len(rows))):
            validate_row(t.name, dict(zip(cols, row, strict=True)))
    assert city.execute("PRAGMA foreign_key_check").fetchall() == []
    assert city.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    assert one(city, "SELECT count(*) FROM service_menu") == len(MENU_ITEM.values)


def test_rates_are_plausible(city: apsw.Connection) -> None:
    alive = "FROM retirees WHERE deceased_on IS NULL"
    n = one(city, f"SELECT count(*) {alive}")
    widowed = one(city, f"SELECT count(*) {alive} AND marital_status = 'widowed'")
    assert 0.2 <= widowed / n <= 0.35
    young, old = city.execute(f"""SELECT avg(CASE WHEN birth_date > '1956-10-31' THEN marital_status = 'widowed' END),
                                        avg(CASE WHEN birth_date <= '1941-10-31' THEN marital_status = 'widowed' END)
                                 {alive}""").fetchone()
    assert old > 2 * young
    assert one(city, f"SELECT count(*) {alive} AND can_attend = 1 AND health_status IN ('serious', 'bedridden')") == 0
    fam = city.execute("SELECT min(n), max(n) FROM (SELECT count(*) n FROM family_contacts GROUP BY retiree_id)")
    assert fam.fetchone() == (1, 4)
    assert one(city, "SELECT count(DISTINCT retiree_id) FROM family_contacts") == 12922


def test_weaknesses_vary_by_unit(city: apsw.Connection) -> None:
    units_with = lambda sql: one(city, f"SELECT count(DISTINCT unit_id) FROM ({sql})")  # noqa: E731
    assert units_with("SELECT unit_id FROM visits WHERE mode = 'office_pickup'") >= 3
    total = one(city, "SELECT count(*) FROM units WHERE level IN ('township', 'department')")
    assert units_with("SELECT unit_id FROM visits WHERE mode = 'office_pickup'") < total
    shares = [r[0] for r in city.execute(
        "SELECT avg(kind = 'material') FROM visits GROUP BY unit_id HAVING count(*) >= 20")]
    assert max(shares) - min(shares) > 0.3
    # Uncontacted for 3+ months in a row somewhere, but not everywhere.
    gaps = city.execute("""SELECT count(DISTINCT unit_id) FROM (
        SELECT unit_id, retiree_id, julianday(contacted_on) - julianday(lag(contacted_on) OVER w) AS gap
        FROM contacts WINDOW w AS (PARTITION BY retiree_id ORDER BY contacted_on)) WHERE gap > 90""").fetchone()[0]
    assert 3 <= gaps < total
    late = one(city, """SELECT count(*) FROM visits v JOIN life_events e ON e.id = v.event_id
                        WHERE e.retiree_id IS NOT NULL AND julianday(v.visited_on) - julianday(e.occurred_on) > 7""")
    on_time = one(city, """SELECT count(*) FROM visits v JOIN life_events e ON e.id = v.event_id
                           WHERE e.retiree_id IS NOT NULL AND julianday(v.visited_on) - julianday(e.occurred_on) <= 7""")
    assert 0 < late < on_time
    never = one(city, """SELECT count(*) FROM life_events e WHERE e.retiree_id IS NOT NULL
                         AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.event_id = e.id)""")
    assert never > 0
    stale = one(city, """SELECT count(*) FROM service_orders WHERE status IN ('open', 'assigned')
                         AND julianday(?) - julianday(requested_on) > 14""", AS_OF.isoformat())
    assert stale > 0
    unreached = one(city, """SELECT count(*) FROM party_members m JOIN retirees r ON r.id = m.retiree_id
                             WHERE r.can_attend = 0 AND NOT EXISTS (SELECT 1 FROM home_study h WHERE h.member_id = m.id)""")
    reached = one(city, "SELECT count(DISTINCT member_id) FROM home_study")
    assert unreached > 0 and reached > 0
    # Targeting: the widowed mostly get emotional comfort, but the rule is not followed everywhere.
    rule = [r[0] for r in city.execute("""SELECT avg(o.item = 'emotional_comfort') FROM service_orders o
        JOIN retirees r ON r.id = o.retiree_id WHERE r.marital_status = 'widowed' AND r.hospitalised = 0
        AND r.health_status <> 'serious' AND r.residence_type <> 'hospital' GROUP BY o.unit_id HAVING count(*) >= 8""")]
    assert max(rule) > 0.7 and min(rule) < 0.5
    policy = city.execute("SELECT kind, avg(policy_conveyed) FROM visits GROUP BY kind").fetchall()
    assert dict(policy)["material"] < 0.1 < dict(policy)["spiritual"]


def test_absent_members_and_attendance(city: apsw.Connection) -> None:
    rows = dict(city.execute("""SELECT r.can_attend, avg(a.status = 'present') FROM meeting_attendance a
        JOIN party_members m ON m.id = a.member_id JOIN retirees r ON r.id = m.retiree_id
        GROUP BY r.can_attend""").fetchall())
    assert rows[0] < 0.3 < 0.7 < rows[1]
    per_branch = [r[0] for r in city.execute("SELECT count(*) FROM party_meetings GROUP BY branch_id")]
    assert min(per_branch) >= 12
    assert one(city, "SELECT count(*) FROM party_meetings WHERE kind = 'appraisal'") == 66
    assert one(city, "SELECT count(*) FROM meeting_attendance WHERE appraisal IS NOT NULL") > 1500


def test_history_matches_current_values(city: apsw.Connection) -> None:
    rows = city.execute("""SELECT h.field, h.new_value, r.marital_status, r.hospitalised FROM roster_history h
                           JOIN retirees r ON r.id = h.retiree_id WHERE h.field IN ('marital_status', 'hospitalised')""")
    seen = 0
    for field, new, marital, hospitalised in rows:
        seen += 1
        assert new == (marital if field == "marital_status" else str(hospitalised))
    assert seen > 50
    assert one(city, """SELECT count(*) FROM roster_history h JOIN contacts c ON c.retiree_id = h.retiree_id
                        AND c.contacted_on = date(h.changed_at) AND c.info_updated = 1""") > 0


def test_summary_counts(city: apsw.Connection) -> None:
    entries = dict(summarise(city, AS_OF))
    assert entries["人员类别 retiree category · 离休干部 retired before 1949 cut-off (lixiu)"] == 32
    assert entries["组织与队伍 organisation and staff · 党员 party members"] == 1979
    assert entries["组织与队伍 organisation and staff · 双重管理党员 members under dual management"] == one(
        city, "SELECT count(DISTINCT retiree_id) FROM party_members WHERE relation = 'dual'") > 0
    lists = {k.split(" · ")[1]: v for k, v in entries.items() if k.startswith("重点名单")}
    assert set(lists) >= {"独居 living alone", "丧偶 widowed", "患病 ill", "高龄≥80 aged 80+", "失能 disabled",
                          "失独 lost only child", "空巢 empty nest", "经济困难 financial hardship"}
    assert all(v > 0 for v in lists.values())
    old = one(city, "SELECT count(*) FROM retirees WHERE deceased_on IS NULL AND birth_date <= '1946-10-31'")
    assert lists["高龄≥80 aged 80+"] == old
