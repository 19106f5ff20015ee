"""The generator's small parts: ID numbers, UUIDs from the rng, splitting totals, the calendar, names."""

from __future__ import annotations

import random
import uuid
from datetime import date

import pytest

from server.seeddata import idcard, names
from server.seeddata.common import Calendar, largest_remainder, new_id, row_maker, sample_weighted
from server.seeddata.profiles import PROFILES, get
from server.seeddata.summary import format_summary


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014", "110101199003074514"])
def test_known_id_numbers_are_valid(number: str) -> None:
    assert idcard.is_valid(number)
    assert idcard.check_char(number[:17]) == number[17]


@pytest.mark.parametrize("number", ["110105194912310021", "11010519491331002X", "1101051949123100", "A1010519491231002X"])
def test_bad_id_numbers_are_invalid(number: str) -> None:
    assert not idcard.is_valid(number)


def test_made_id_numbers_carry_birth_and_sex() -> None:
    rng = random.Random(1)
    alloc = idcard.Allocator()
    seen = set()
    for _ in range(2000):
        birth = date(1930 + int(rng.random() * 40), 1 + int(rng.random() * 12), 1 + int(rng.random() * 28))
        sex = "male" if rng.random() < 0.5 else "female"
        n = alloc.new(rng, "530326", birth, sex)
        assert idcard.is_valid(n) and n.startswith("530326")
        assert idcard.birth_date(n) == birth and idcard.sex_of(n) == sex
        seen.add(n)
    assert len(seen) == 2000


def test_new_id_is_the_rngs_uuid4() -> None:
    a, b = random.Random(42), random.Random(42)
    for _ in range(1000):
        assert new_id(a) == str(uuid.UUID(int=b.getrandbits(128), version=4))


def test_largest_remainder_is_exact() -> None:
    assert largest_remainder(66, [3.0, 1.0, 1.0, 1.0]) == [33, 11, 11, 11]
    parts = largest_remainder(1979, [random.Random(i).random() for i in range(9)], minimum=1)
    assert sum(parts) == 1979 and min(parts) >= 1
    assert sum(largest_remainder(5, [1.0] * 9, minimum=1)) == 5


def test_sample_weighted_prefers_heavy_items() -> None:
    picked = sample_weighted(random.Random(3), [1e6, 1e6, 1.0, 1.0, 1.0, 1.0], 2)
    assert picked == [0, 1]


def test_calendar_is_the_twelve_months_ending_as_of() -> None:
    cal = Calendar(date(2026, 10, 31))
    assert cal.start == date(2025, 11, 1)
    assert len(cal.months) == 12
    assert date.fromordinal(cal.months[-1][1]) == date(2026, 10, 31)
    assert date.fromordinal(cal.months[3][0]) == date(2026, 2, 1)
    assert date.fromordinal(cal.months[3][1]) == date(2026, 2, 28)
    mid = Calendar(date(2026, 3, 15))
    assert mid.start == date(2025, 4, 1) and date.fromordinal(mid.months[-1][1]) == date(2026, 3, 15)


def test_row_maker_fills_registry_defaults() -> None:
    row = row_maker("retirees")(id="x", name="张三")
    d = row._asdict()  # type: ignore[attr-defined]
    assert d["health_status"] == "good" and d["residence_type"] == "own_home" and d["living_alone"] == 0
    assert d["phone"] is None


def test_names_are_chinese_and_phones_mobile() -> None:
    rng = random.Random(7)
    for _ in range(500):
        n = names.person_name(rng, "female")
        assert 2 <= len(n) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in n)
        p = names.mobile(rng)
        assert len(p) == 11 and p[0] == "1" and p[1] in "3456789" and p.isdigit()
    common = sum(names.surname(rng) in ("王", "李", "张", "刘", "陈") for _ in range(2000))
    assert 400 < common < 900


def test_profiles() -> None:
    city = get("city")
    assert dict(city.categories) == {"lixiu": 32, "county_level": 80, "section_level": 810, "general": 12000}
    assert get("county").retirees == 4000 and get("county").staff == 120
    assert 480_000 <= get("province").retirees <= 520_000
    assert set(PROFILES) >= {"city", "county", "province", "tiny"}
    with pytest.raises(ValueError, match="unknown profile"):
        get("planet")


def test_format_summary_groups_sections() -> None:
    text = format_summary([("甲 a · 一 one", 1), ("甲 a · 二 two", 2000), ("乙 b · 三 three", 3)], seconds=1.25)
    lines = text.splitlines()
    assert lines[0] == "甲 a" and lines[3] == "乙 b" and "2,000" in lines[2]
    assert lines[-1].rstrip().endswith("1.2") or lines[-1].rstrip().endswith("1.3")
