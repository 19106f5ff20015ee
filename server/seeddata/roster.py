"""The service database (服务数据库): retirees and their family contacts.

Rates rise with age as they do in life: widowhood (丧偶) from about 10% under 65 to well over half
past 85, illness, bedridden and disability; ID numbers use the unit's county code, the birth date
and a sequence whose parity is the sex. Statuses are as of the generation's ``as_of`` date.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from server.seeddata import idcard, names, texts
from server.seeddata.common import Calendar, Row, RowMaker, age_on, new_id, pick
from server.seeddata.org import Chunk, Unit

V = TypeVar("V")

_AGE_SHAPE: tuple[tuple[str, float, float, float, float], ...] = (
    # category, min age, max age, mode, share male
    ("lixiu", 91.0, 101.0, 93.0, 0.85),
    ("county_level", 60.0, 95.0, 72.0, 0.85),
    ("section_level", 57.0, 95.0, 68.0, 0.72),
    ("general", 55.05, 95.0, 63.0, 0.55),
)
_HEALTH: tuple[tuple[int, tuple[float, float, float]], ...] = (
    # minimum age, cumulative chance of good / chronic / serious (rest bedridden)
    (90, (0.12, 0.62, 0.80)), (80, (0.25, 0.80, 0.92)), (70, (0.40, 0.90, 0.97)), (0, (0.60, 0.95, 0.99)),
)
_DEATH: tuple[tuple[int, float], ...] = ((90, 0.13), (80, 0.06), (70, 0.022), (0, 0.007))
_HARDSHIP: tuple[tuple[str, float], ...] = (
    ("lixiu", 0.0), ("county_level", 0.005), ("section_level", 0.02), ("general", 0.06),
)


@dataclass(slots=True)
class Person:
    id: str
    unit: Unit
    category: str
    sex: str
    birth: date
    age: int
    name: str
    marital: str
    residence: str
    health: str
    hospitalised: bool
    disabled: bool
    living_alone: bool
    lost_only_child: bool
    empty_nest: bool
    hardship: bool
    can_attend: bool
    children: int
    staff_id: str
    phone: str | None
    widowed_on: int | None = None
    """Ordinal day the spouse died, if within the year."""
    deceased_on: int | None = None
    admitted_on: int | None = None
    """Ordinal day of the current hospital admission, if in hospital now."""
    member_id: str | None = None


def _band(age: int, table: tuple[tuple[int, V], ...]) -> V:
    for lo, value in table:
        if age >= lo:
            return value
    return table[-1][1]


def _widowed_p(age: int, sex: str) -> float:
    p = 0.10 if age < 65 else 0.20 if age < 75 else 0.36 if age < 85 else 0.58
    return min(0.85, p * (1.4 if sex == "female" else 0.75))


def _person(rng: random.Random, unit: Unit, category: str, cal: Calendar, ids: idcard.Allocator,
            staff_id: str) -> tuple[Person, dict[str, object]]:
    shape = next(s for s in _AGE_SHAPE if s[0] == category)
    sex = "male" if rng.random() < shape[4] else "female"
    years = rng.triangular(shape[1], shape[2], shape[3])
    birth = date.fromordinal(cal.last - int(years * 365.2425))
    age = age_on(birth, cal.as_of)
    r = rng.random()
    wp = _widowed_p(age, sex) if category != "lixiu" else 0.6
    marital = "widowed" if r < wp else "divorced" if r < wp + 0.03 else "single" if r < wp + 0.04 \
        and category != "lixiu" else "married"
    g, c, s = _band(age, _HEALTH)
    r = rng.random()
    health = "good" if r < g else "chronic" if r < c else "serious" if r < s else "bedridden"
    hospitalised = rng.random() < {"good": 0.0, "chronic": 0.02, "serious": 0.3, "bedridden": 0.15}[health]
    disabled = rng.random() < (0.9 if health == "bedridden" else 0.2 if health == "serious"
                               else 0.08 if age >= 85 else 0.008)
    lost_only = rng.random() < (0.025 if age < 75 else 0.006)
    children = 0 if lost_only or (marital == "single" and rng.random() < 0.9) else \
        rng.randint(2, 5) if birth.year < 1950 else rng.randint(1, 3) if birth.year < 1966 else rng.randint(1, 2)
    r = rng.random()
    if hospitalised and health != "chronic" and r < 0.35:
        residence = "hospital"
    elif (disabled or age >= 90) and r < 0.25:
        residence = "care_home"
    elif children and r < (0.4 if marital != "married" else 0.12):
        residence = "with_children"
    else:
        r = rng.random()
        residence = "rented" if r < 0.03 else "other" if r < 0.05 else "care_home" if r < 0.07 else "own_home"
    home = residence in ("own_home", "rented", "other")
    living_alone = home and rng.random() < (0.75 if marital != "married" else 0.01)
    empty_nest = residence not in ("with_children", "care_home", "hospital") and age >= 60 \
        and (children == 0 or rng.random() < 0.55)
    hardship = rng.random() < dict(_HARDSHIP)[category] + (0.08 if health in ("serious", "bedridden") else 0) \
        + (0.05 if lost_only else 0)
    can_attend = not (age >= 88 or health in ("serious", "bedridden") or disabled or hospitalised
                      or residence in ("hospital", "care_home")) and rng.random() > (0.05 if age >= 75 else 0.01)
    pid = new_id(rng)
    name = names.person_name(rng, sex)
    phone = names.mobile(rng) if rng.random() < (0.93 if age < 85 else 0.7) else None
    p = Person(pid, unit, category, sex, birth, age, name, marital, residence, health, hospitalised, disabled,
               living_alone, lost_only, empty_nest, hardship, can_attend, children, staff_id, phone)
    if rng.random() < _band(age, _DEATH) * (2.0 if health in ("serious", "bedridden") else 0.7):
        p.deceased_on = cal.day_in(rng, cal.first + 20, cal.last - 5)
        p.hospitalised = False
    if p.hospitalised:
        back = 40 if residence != "hospital" else cal.last - cal.first
        p.admitted_on = cal.last - int(rng.random() * back)
    if marital == "widowed" and p.deceased_on is None and rng.random() < 0.06:
        p.widowed_on = cal.day_in(rng, cal.first, cal.last - 10)
    if residence == "hospital":
        address = names.institution_address(rng, unit.county, hospital=True)
    elif residence == "care_home":
        address = names.institution_address(rng, unit.county, hospital=False)
    elif unit.township and rng.random() < 0.55:
        address = names.village_address(rng, unit.county, unit.town)
    else:
        address = names.town_address(rng, unit.county, unit.town)
    eligible = age >= 80 or disabled or lost_only or hardship or empty_nest
    practice = unit.practice
    four = eligible and practice is not None and rng.random() < practice.four_nearby * (
        0.4 if not (age >= 80 or disabled or lost_only or hardship) else 1.0)
    return p, dict(
        id=pid, unit_id=unit.id, caseworker_id=staff_id, name=name, sex=sex, birth_date=birth.isoformat(),
        id_number=ids.new(rng, unit.region, birth, sex), phone=phone, address=address, category=category,
        former_employer=names.former_employer(rng, unit.name, unit.county, unit.township),
        residence_type=residence, marital_status=marital, living_alone=int(living_alone),
        health_status=health, hospitalised=int(p.hospitalised), disabled=int(disabled),
        lost_only_child=int(lost_only), empty_nest=int(empty_nest), financial_hardship=int(hardship),
        four_nearby=int(four), can_attend=int(can_attend), hobbies=texts.hobbies(rng),
        personality_notes=texts.personality(rng), health_notes=texts.health_note(rng, health),
        deceased_on=cal.iso(p.deceased_on) if p.deceased_on else None,
    )


def retirees(rng: random.Random, chunk: Chunk, slots: list[tuple[Unit, str]], cal: Calendar,
             ids: idcard.Allocator, mk: RowMaker) -> tuple[list[Person], list[Row], list[dict[str, object]]]:
    """People, their rows and their column values, for one chunk's (unit, category) slots."""
    people: list[Person] = []
    rows: list[Row] = []
    values: list[dict[str, object]] = []
    counters: dict[str, int] = {}
    for unit, category in slots:
        k = counters.get(unit.id, 0)
        counters[unit.id] = k + 1
        staff_id = unit.staff_ids[k % len(unit.staff_ids)]
        person, vals = _person(rng, unit, category, cal, ids, staff_id)
        people.append(person)
        rows.append(mk(**vals))
        values.append(vals)
    return people, rows, values


def _relative_name(rng: random.Random, p: Person, relation: str, family: str | None) -> str:
    if relation == "spouse":
        sex = "female" if p.sex == "male" else "male"
    elif relation in ("son", "son_in_law"):
        sex = "male"
    elif relation in ("daughter", "daughter_in_law"):
        sex = "female"
    else:
        sex = "female" if rng.random() < 0.5 else "male"
    return names.person_name(rng, sex, family)


def family(rng: random.Random, chunk: Chunk, people: list[Person], values: list[dict[str, object]],
           mk: RowMaker) -> list[Row]:
    rows: list[Row] = []
    for p, vals in zip(people, values, strict=True):
        home = vals["address"]
        rels: list[str] = []
        if p.marital == "married":
            rels.append("spouse")
        kids = ["son" if rng.random() < 0.5 else "daughter" for _ in range(min(p.children, 3))]
        rels.extend(kids)
        if kids and len(rels) < 4 and rng.random() < 0.18:
            rels.append("son_in_law" if kids[0] == "daughter" else "daughter_in_law")
        if kids and len(rels) < 4 and p.age >= 75 and rng.random() < 0.1:
            rels.append("grandchild")
        if not kids:
            if p.disabled or p.health == "bedridden" or (p.age >= 90 and rng.random() < 0.3):
                rels.append("guardian")
            rels.append("relative" if rng.random() < 0.65 else "neighbour")
        rels = rels[:4]
        surname = p.name[: 2 if p.name[:2] in ("欧阳", "诸葛", "司马") else 1] if p.sex == "male" else None
        emergency_done = False
        for i, rel in enumerate(rels):
            kin = rel in ("son", "daughter", "grandchild")
            name = _relative_name(rng, p, rel, surname if kin else None)
            lives_with = (rel == "spouse" and p.residence not in ("hospital", "care_home")) or \
                (p.residence == "with_children" and rel in ("son", "daughter") and i == (1 if rels[0] == "spouse"
                                                                                         else 0))
            if lives_with:
                address = None
            elif rel == "neighbour":
                address = home
            elif rng.random() < 0.3:
                address = names.far_address(rng, chunk.stems)
            else:
                address = names.town_address(rng, p.unit.county, p.unit.town)
            emergency = not emergency_done and (rel != "spouse" or len(rels) == 1)
            emergency_done = emergency_done or emergency
            phone = names.mobile(rng) if rel != "spouse" or rng.random() < 0.7 else p.phone
            rows.append(mk(id=new_id(rng), unit_id=p.unit.id, retiree_id=p.id, name=name, relation=rel,
                           phone=phone, address=address, lives_with=int(lives_with), emergency=int(emergency)))
    return rows


def is_old(p: Person) -> bool:
    return p.age >= 80


def pick_staff(rng: random.Random, p: Person) -> str:
    """Mostly the retiree's own caseworker, sometimes a colleague."""
    return p.staff_id if rng.random() < 0.85 else pick(rng, p.unit.staff_ids)
