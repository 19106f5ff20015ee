"""Indicator values against the hand-worked answers of :mod:`tests.reports_site.known`."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports_site.indicators import Values, direct_values, median, rollup
from reports_site.period import Period, default_period
from reports_site.units import SELF, load_units
from server.db import open_sqlite3_readonly
from tests.reports_site.known import AS_OF, ORG


@pytest.fixture(scope="module")
def values(known_db: Path) -> dict[str, Values]:
    conn = open_sqlite3_readonly(known_db)
    try:
        tree = load_units(conn, "报告")
        _, totals = rollup(tree, direct_values(conn, Period.parse(AS_OF)))
    finally:
        conn.close()
    return totals


def test_roster_counts(values: dict[str, Values]) -> None:
    a = values[ORG.town_a]
    assert a.get("retirees") == 20  # the 21st died in September
    assert [a.get(f"cat:{c}") for c in ("lixiu", "county_level", "section_level", "general")] == [2, 3, 5, 10]
    assert (a.get("age:90"), a.get("age:85"), a.get("age:70")) == (2, 1, 17)  # 90 on the as-of day counts as 90
    lists = {k: a.get(f"list:{k}") for k in ("alone", "widowed", "ill", "aged80", "disabled", "hardship")}
    assert lists == {"alone": 1, "widowed": 2, "ill": 2, "aged80": 3, "disabled": 0, "hardship": 0}
    assert (a.get("members"), a.get("home_need")) == (10, 3)
    assert values[ORG.town_b].get("age:65") == 12
    assert values[ORG.dept].get("age:75") == 5


def test_rates(values: dict[str, Values]) -> None:
    a = values[ORG.town_a]
    assert a.pair("member_share") == (10, 20)
    assert a.pair("contact") == (16, 20)
    assert a.trends["contact"][-2] == [20, 20]  # September: the retiree who died on the 15th is out of both
    assert a.pair("home_study") == (1, 3)  # the June delivery is older than 90 days
    assert (a.pair("timely:illness"), a.pair("timely:hardship"), a.pair("timely")) == ((1, 2), (1, 1), (2, 3))
    assert a.pair("timely:complaint") == (0, 0)  # the 28 October event has not had its 7 days
    assert a.get("visits") == 20  # the October 2025 visit is outside the 12 months
    assert a.pair("spiritual_share") == (13, 20)  # 8 spiritual + 5 both
    assert a.pair("material_share") == (12, 20)  # 7 material + 5 both
    assert a.pair("policy_share") == (13, 20)
    assert a.pair("pickup_share") == (2, 20)
    assert (a.get("musts"), a.get("musts:document"), a.get("musts:meeting")) == (14, 12, 2)
    assert (a.pair("musts_cov:document"), a.pair("musts_cov:meeting"), a.pair("musts_cov:guidance")) == (
        (12, 20), (1, 20), (0, 20))


def test_notices(values: dict[str, Values]) -> None:
    # K1 (county, everyone, due 03-20): 金钟镇 12 of its 21 in time, the others none; K2 (金钟镇, 县级 and
    # above): 1 of 5; K3 (金钟镇, 离休): 0 of 2, the delivery was late; K4 is due in November
    a = values[ORG.town_a]
    assert (a.get("notices"), a.pair("notice_reach")) == (2, (13, 28))
    assert values[ORG.town_b].pair("notice_reach") == (0, 12)
    assert values[ORG.dept].pair("notice_reach") == (0, 5)
    assert values[ORG.county + SELF].pair("notice_reach") == (0, 1)
    assert values[ORG.county + SELF].get("notices") == 1
    county = values[ORG.county]
    assert (county.get("notices"), county.pair("notice_reach")) == (3, (13, 46))


def test_orders_and_targets(values: dict[str, Values]) -> None:
    a = values[ORG.town_a]
    assert (a.get("orders"), a.get("orders:health_care"), a.get("orders:emotional_comfort")) == (13, 12, 1)
    assert a.pair("fulfil:health_care") == (10, 11)  # the cancelled order is out of the denominator
    assert a.pair("fulfil") == (11, 12)
    assert median(a.samples["days:health_care"]) == 5.5
    assert median(a.samples["days"]) == 6
    assert a.pair("target:comfort") == (1, 2)
    assert a.pair("target:health") == (0, 1)  # fulfilled in June, outside the 90 days
    assert a.pair("target:homecare") == (0, 3)
    assert (a.get("staff"), a.get("venues"), a.get("venues_five")) == (2, 2, 1)
    assert a.pair("caseload") == (20, 2)


def test_rollup_adds_children_and_own_rows(values: dict[str, Values]) -> None:
    c = values[ORG.county]
    assert c.get("retirees") == 38
    assert [c.get(f"cat:{k}") for k in ("lixiu", "county_level", "section_level", "general")] == [2, 8, 5, 23]
    assert c.pair("contact") == (28, 38)
    assert c.get("staff") == 3
    assert values[ORG.county + SELF].get("retirees") == 1
    assert values[ORG.county + SELF].get("age:60") == 1


def test_default_month_is_the_last_complete_one(known_db: Path) -> None:
    conn = open_sqlite3_readonly(known_db)
    try:
        # the latest record is an order of 30 October: October is not covered to its end, September is
        assert default_period(conn).month == "2026-09"
    finally:
        conn.close()


def test_periods() -> None:
    p = Period.parse("2026-10")
    assert (str(p.year_start), str(p.recent_start), str(p.last_event_day)) == ("2025-11-01", "2026-08-03",
                                                                                "2026-10-24")
    assert p.months[0] == "2025-11" and p.months[-1] == "2026-10" and len(p.months) == 12
    assert Period.parse("2026-01").months[0] == "2025-02"
