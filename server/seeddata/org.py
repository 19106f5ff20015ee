"""Org units (省—市—县/区—乡镇/部门), staff, venues, community resources and the service menu.

Codes follow the administrative-division scheme: 2-digit province, 4-digit city, 6-digit county;
townships are the county code plus 3 digits (街道 0xx, 镇 1xx, 乡 2xx) and departments take their own
range (5xx). ID numbers of a unit's retirees use its county's (or city's) 6-digit code.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from schema.enums import MENU_ITEM
from server.seeddata import names
from server.seeddata.common import Calendar, Row, RowMaker, new_id, pick
from server.seeddata.practice import Practice
from server.seeddata.practice import make as make_practice
from server.seeddata.profiles import Profile


@dataclass
class Unit:
    id: str
    code: str
    name: str
    level: str
    parent_id: str | None
    region: str
    """6-digit region code used in ID numbers."""
    county: str
    """Full name of the county/district (or city) the unit belongs to, for addresses."""
    town: str
    """Township (or county seat) name used in addresses."""
    township: bool = False
    practice: Practice | None = None
    weight: float = 1.0
    staff_ids: list[str] = field(default_factory=list)
    """Active caseworkers."""


@dataclass
class Chunk:
    """One county (or a city's own departments): generated and written as one piece."""

    head: Unit
    units: list[Unit]
    stems: list[str]


def _unit(rng: random.Random, code: str, name: str, level: str, parent: Unit | None, region: str,
          county: str, town: str) -> Unit:
    return Unit(new_id(rng), code, name, level, parent.id if parent else None, region, county, town)


def _serving(rng: random.Random, u: Unit, weight: float, township: bool) -> Unit:
    u.practice = make_practice(rng)
    u.township = township
    u.weight = weight * math.exp(rng.gauss(0.0, 0.5))
    return u


def _county_chunk(rng: random.Random, profile: Profile, parent: Unit | None, code: str, stem: str,
                  district: bool) -> Chunk:
    lc = "区" if district else "县"
    county_name = stem + lc
    head = _unit(rng, code, county_name, "county", parent, code, county_name, "")
    n_town = rng.randint(*profile.townships)
    n_dept = rng.randint(*profile.departments)
    stems = names.place_stems(rng, n_town + 1, avoid=(stem,))
    units: list[Unit] = []
    seat = "城关镇" if not district else stems[-1] + "街道"
    head.town = seat
    counters = {"0": 0, "1": 0, "2": 0}
    for i in range(n_town):
        if i == 0:
            town, kind = seat, ("0" if district else "1")
        else:
            r = rng.random()
            kind = ("0" if r < 0.4 else "1") if district else ("1" if r < 0.7 else "2")
            town = stems[i] + {"0": "街道", "1": "镇", "2": "乡"}[kind]
        counters[kind] += 1
        tcode = f"{code}{int(kind) * 100 + counters[kind]:03d}"
        u = _unit(rng, tcode, county_name + town, "township", head, code, county_name, town)
        units.append(_serving(rng, u, 1.0, True))
    depts = sorted(rng.sample(range(len(names.COUNTY_DEPARTMENTS)), n_dept))
    for j, d in enumerate(depts):
        name = names.department_name(stem, lc, names.COUNTY_DEPARTMENTS[d])
        u = _unit(rng, f"{code}{501 + j:03d}", name, "department", head, code, county_name, seat)
        units.append(_serving(rng, u, 0.8, False))
    return Chunk(head, units, stems)


def _city_chunk(rng: random.Random, profile: Profile, city: Unit, stem: str) -> Chunk:
    depts = sorted(rng.sample(range(len(names.COUNTY_DEPARTMENTS)), profile.city_departments))
    units = []
    for j, d in enumerate(depts):
        name = names.department_name(stem, "市", names.COUNTY_DEPARTMENTS[d])
        u = _unit(rng, f"{city.code}{501 + j:03d}", name, "department", city, city.code, city.name, city.town)
        units.append(_serving(rng, u, 1.2, False))
    return Chunk(city, units, names.place_stems(rng, 6, avoid=(stem,)))


def build(rng: random.Random, profile: Profile) -> tuple[list[Unit], list[Chunk]]:
    """Every unit (parents first) and the chunks of serving units."""
    chunks: list[Chunk] = []
    heads: list[Unit] = []
    province_code = pick(rng, ("43", "45", "51", "52", "53", "62"))
    n_cities = max(profile.cities, 1)
    city_stems = names.place_stems(rng, n_cities + 1)
    county_stems = names.place_stems(rng, profile.counties, avoid=city_stems)
    top: Unit | None = None
    if profile.top == "province":
        top = _unit(rng, f"{province_code}0000", city_stems[-1] + "省", "province", None,
                    f"{province_code}0000", "", "")
        heads.append(top)
    if profile.top == "county":
        c = _county_chunk(rng, profile, None, f"{province_code}0{rng.randint(3, 9)}{rng.randint(21, 29)}",
                          county_stems[0], district=False)
        return [c.head, *c.units], [c]
    per_city = [profile.counties // n_cities + (1 if i < profile.counties % n_cities else 0)
                for i in range(n_cities)]
    k = 0
    for ci in range(n_cities):
        ccode = f"{province_code}{ci + 1:02d}00"
        city = _unit(rng, ccode, city_stems[ci] + "市", "city", top, ccode, city_stems[ci] + "市", "")
        city.town = city_stems[ci] + "市"
        heads.append(city)
        n_districts = max(1, per_city[ci] // 4)
        for j in range(per_city[ci]):
            district = j < n_districts
            code = f"{ccode[:4]}{(2 + j) if district else (21 + j - n_districts):02d}"
            chunks.append(_county_chunk(rng, profile, city, code, county_stems[k], district))
            k += 1
        if profile.city_departments:
            chunks.append(_city_chunk(rng, profile, city, city_stems[ci]))
    units = heads + [u for c in chunks for u in ([c.head] if c.head.level == "county" else [])]
    units += [u for c in chunks for u in c.units]
    return units, chunks


def unit_rows(units: list[Unit], mk: RowMaker) -> list[Row]:
    return [mk(id=u.id, code=u.code, name=u.name, level=u.level, parent_id=u.parent_id) for u in units]


def staff_rows(rng: random.Random, unit: Unit, n: int, mk: RowMaker, supervisor: bool = False) -> list[Row]:
    rows: list[Row] = []
    for i in range(n):
        sex = "female" if rng.random() < 0.55 else "male"
        role = "supervisor" if supervisor else ("full_time" if rng.random() < 0.35 else "part_time")
        active = i == 0 or rng.random() > 0.03
        sid = new_id(rng)
        if active and not supervisor:
            unit.staff_ids.append(sid)
        rows.append(mk(id=sid, unit_id=unit.id, name=names.person_name(rng, sex), phone=names.mobile(rng),
                       role=role, active=int(active)))
    return rows


def venue_rows(rng: random.Random, chunk: Chunk, n: int, cal: Calendar, mk: RowMaker) -> list[Row]:
    rows: list[Row] = []
    used: set[str] = set()
    hosts = [chunk.head, *sorted(chunk.units, key=lambda u: -u.weight)[: max(0, n - 1)]]
    while len(hosts) < n:
        hosts.append(pick(rng, chunk.units))
    for i, u in enumerate(hosts[:n]):
        if i == 0:
            name = f"{u.name}老干部活动中心"
            loc = f"{u.county}{u.town}{pick(rng, ('人民路', '文化路', '建设路'))}{1 + int(rng.random() * 200)}号"
        elif u.township:
            name = pick(rng, (f"{u.town}老年活动室", f"{u.town}离退休干部活动中心", f"{u.town}老年大学教学点"))
            loc = f"{u.town}{pick(rng, chunk.stems)}社区"
        else:
            name = f"{u.name}离退休干部活动室"
            loc = f"{u.name}办公楼{1 + int(rng.random() * 3)}楼"
        p = 0.95 if u.practice is None else u.practice.five_haves
        inspected = cal.iso(cal.day_in(rng, cal.first, cal.last)) if rng.random() < 0.85 else None
        flags = [int(rng.random() < (1.0 if k == 0 else p)) for k in range(5)]
        if name in used:
            name = f"{name}({loc})"
        used.add(name)
        rows.append(mk(id=new_id(rng), unit_id=u.id, name=name, location=loc,
                       has_site=flags[0], has_facilities=flags[1], has_books=flags[2],
                       has_rules_board=flags[3], has_archive=flags[4], inspected_on=inspected))
    return rows


_TOWN_RESOURCES = (
    ("meal_delivery", "{t}幸福食堂送餐点"), ("love_supermarket", "{t}爱心超市"),
    ("neighbour_help", "{s}社区邻里互助队"), ("merchant", "{t}{s}大药房(送药上门)"),
    ("merchant", "{t}{s}超市(送货上门)"), ("medical", "{t}卫生院"), ("volunteer", "{t}志愿服务队"),
)


def resource_rows(rng: random.Random, chunk: Chunk, mk: RowMaker) -> tuple[list[Row], list[tuple[str, str, str]]]:
    """Resource rows, and (unit id, kind, id) of the active ones; the chunk's head has every kind."""
    rows: list[Row] = []
    active_index: list[tuple[str, str, str]] = []

    def add(u: Unit, kind: str, name: str, active: bool) -> None:
        rid = new_id(rng)
        rows.append(mk(id=rid, unit_id=u.id, name=name, kind=kind, active=int(active)))
        if active:
            active_index.append((u.id, kind, rid))

    h = chunk.head
    for kind, name in (("medical", f"{h.name}人民医院"), ("cultural_group", f"{h.name}老年艺术团"),
                       ("volunteer", f"{h.name}青年志愿者协会"), ("meal_delivery", f"{h.name}长者食堂"),
                       ("love_supermarket", f"{h.name}爱心超市"), ("neighbour_help", f"{h.name}邻里互助会"),
                       ("merchant", f"{h.name}老年服装专卖店")):
        add(h, kind, name, True)
    for u in chunk.units:
        n = 1 + int(rng.random() * 3) if u.township else int(rng.random() < 0.3)
        for kind, pattern in rng.sample(_TOWN_RESOURCES, n):
            if not u.township:
                kind, pattern = "volunteer", f"{u.name}志愿服务队"
            add(u, kind, pattern.format(t=u.town, s=pick(rng, chunk.stems)), rng.random() > 0.08)
    return rows, active_index


_TARGETS: tuple[tuple[str, str], ...] = (
    ("group_study", "身体相对较好、能参加集中活动的离退休干部"),
    ("home_study", "经常不能参加组织生活的离退休干部党员"),
    ("counselling", "思想有情绪、遭遇变故的离退休干部"),
    ("cultural_sports", "身体相对较好的离退休干部"),
    ("emotional_comfort", "丧偶的离退休干部以及长期卧床的离退休干部"),
    ("health_care", "长期住院和患重症的离退休干部"),
    ("home_care", "不能参加会议活动的离退休干部"),
)


def menu_rows(rng: random.Random, mk: RowMaker) -> tuple[dict[str, str], list[Row]]:
    ids: dict[str, str] = {}
    rows: list[Row] = []
    for i, code in enumerate(MENU_ITEM.codes()):
        ids[code] = new_id(rng)
        rows.append(mk(id=ids[code], item=code, target_group=dict(_TARGETS).get(code, MENU_ITEM.label(code)),
                       sort_order=i + 1))
    return ids, rows
