"""The sizes of generated populations, from the seed report.

* ``city``: the seed's city — 32 离休, 80 县级, 810 科级, 12,000 一般 retirees; 66 party branches
  with 1,979 members; 60 venues; ~8 counties/districts; about 33 retirees per staff member.
* ``county``: the seed's 会泽县 — 4,000 retirees served by 120 staff; one county.
* ``province``: about 40 cities' worth (500,000 retirees in ~100 counties), for benchmarks.
* ``tiny``: an internal profile for fast tests (not offered by the CLI).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from schema.enums import CATEGORY

TopLevel = Literal["province", "city", "county"]


@dataclass(frozen=True)
class Profile:
    name: str
    top: TopLevel
    cities: int
    """Cities under the top unit (a province); 1 for a city profile, 0 for a county profile."""
    counties: int
    """Counties/districts in total."""
    townships: tuple[int, int]
    """Townships (乡镇/街道) per county: inclusive range."""
    departments: tuple[int, int]
    """Departments (部门) per county: inclusive range."""
    city_departments: int
    """Departments directly under each city (市直部门)."""
    categories: tuple[tuple[str, int], ...]
    """Exact number of retirees per category code."""
    branches: int
    members: int
    venues: int
    staff: int
    """Exact number of staff (including the office supervisors)."""

    @property
    def retirees(self) -> int:
        return sum(n for _, n in self.categories)


def _mix(total: int) -> tuple[tuple[str, int], ...]:
    """The city's category mix scaled to ``total`` retirees."""
    city = (32, 80, 810, 12000)
    s = sum(city)
    head = [round(total * n / s) for n in city[:3]]
    counts = [*head, total - sum(head)]
    return tuple(zip(CATEGORY.codes(), counts, strict=True))


def _scaled(n: int, total: int) -> int:
    return round(n * total / 12922)


_PROVINCE_RETIREES = 500_000

PROFILES: Mapping[str, Profile] = MappingProxyType({
    "city": Profile(
        "city", "city", cities=1, counties=8, townships=(9, 14), departments=(8, 12), city_departments=12,
        categories=tuple(zip(CATEGORY.codes(), (32, 80, 810, 12000), strict=True)),
        branches=66, members=1979, venues=60, staff=392,
    ),
    "county": Profile(
        "county", "county", cities=0, counties=1, townships=(14, 18), departments=(20, 26),
        city_departments=0, categories=_mix(4000),
        branches=_scaled(66, 4000), members=_scaled(1979, 4000), venues=_scaled(60, 4000), staff=120,
    ),
    "province": Profile(
        "province", "province", cities=12, counties=100, townships=(12, 18), departments=(14, 20),
        city_departments=15, categories=_mix(_PROVINCE_RETIREES),
        branches=_scaled(66, _PROVINCE_RETIREES), members=_scaled(1979, _PROVINCE_RETIREES),
        venues=_scaled(60, _PROVINCE_RETIREES), staff=round(_PROVINCE_RETIREES / 33),
    ),
    "tiny": Profile(
        "tiny", "county", cities=0, counties=1, townships=(3, 3), departments=(2, 2), city_departments=0,
        categories=tuple(zip(CATEGORY.codes(), (2, 3, 10, 85), strict=True)),
        branches=4, members=20, venues=3, staff=8,
    ),
})
CLI_PROFILES: tuple[str, ...] = ("city", "county", "province")


def get(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
