"""The shared definitions of who the practices are for (schema.definitions): valid SQL over the registry's
retirees, and the age rule judged exactly as a person's age in whole years."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest

from schema.definitions import CONDITIONS, FOUR_NEARBY, HIGH_AGE, TARGETING, any_of
from schema.enums import MENU_ITEM
from schema.migrations import migrate


@pytest.fixture
def conn() -> sqlite3.Connection:
    c = sqlite3.connect(":memory:")
    migrate(c, "central")
    return c


def test_every_condition_is_sql_over_retirees(conn: sqlite3.Connection) -> None:
    for cond in CONDITIONS.values():
        conn.execute(f"SELECT count(*) FROM retirees r WHERE {cond.at(repr('2026-11-30'))}").fetchone()
    assert set(FOUR_NEARBY) <= set(CONDITIONS)


def test_rules_name_known_conditions_and_menu_items() -> None:
    assert [r.code for r in TARGETING] == ["comfort", "health", "homecare"]
    for rule in TARGETING:
        assert set(rule.conditions) <= set(CONDITIONS)
        assert rule.item in MENU_ITEM.codes()
        assert rule.at(":d") == any_of(rule.conditions, ":d")


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_high_age_is_whole_years_at_the_date_including_leap_days(conn: sqlite3.Connection) -> None:
    """``birth_date <= date(asof, '-80 years')`` is "aged 80 or more on asof", also for people born on
    29 February and dates around it (the report once computed the age from years and month-days)."""
    sql = f"SELECT {CONDITIONS['aged80'].at(':on')} FROM (SELECT :born AS birth_date) AS r"
    ons = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1), date(2025, 2, 28), date(2025, 3, 1),
           date(2026, 12, 31), date(2026, 1, 1)]
    checked = 0
    for on in ons:
        anchor = date(on.year - HIGH_AGE, on.month, on.day)  # 1944 is a leap year too
        for born in [anchor + timedelta(days=d) for d in range(-3, 4)] + [date(1944, 2, 29), date(1946, 3, 1)]:
            got = conn.execute(sql, {"on": on.isoformat(), "born": born.isoformat()}).fetchone()[0]
            assert got == (_age(born, on) >= HIGH_AGE), (born, on)
            checked += 1
    assert checked == len(ons) * 9
