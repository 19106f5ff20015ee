"""Life events and the six must-visits (六必访), plus holiday and routine visits.

A must-visit mostly follows its event within 7 days; some are late and some never happen, more so
in lax units. Units differ in how material their visits are and whether policy is conveyed; a few
phone the family to collect the gift at the office (the seed's 电话通知家属到办公室领取).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from server.seeddata import texts
from server.seeddata.common import Calendar, Row, RowMaker, new_id, pick
from server.seeddata.org import Unit
from server.seeddata.roster import Person

_SPRING = (
    "2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29", "2026-02-17",
    "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03", "2031-01-23", "2032-02-11", "2033-01-31",
    "2034-02-19", "2035-02-08",
)
_DOUBLE_NINTH = (
    "2020-10-25", "2021-10-14", "2022-10-04", "2023-10-23", "2024-10-11", "2025-10-29", "2026-10-18",
    "2027-10-08", "2028-10-26", "2029-10-16", "2030-10-05", "2031-10-24", "2032-10-12", "2033-10-01",
    "2034-10-20", "2035-10-09",
)
_OCCASION = (("hospitalised", "illness"), ("illness", "illness"), ("hardship", "hardship"),
             ("bereavement", "bereavement"), ("complaint", "complaint"), ("new_leader", "new_leader"),
             ("holiday", "holiday_birthday"), ("birthday", "holiday_birthday"))


@dataclass(frozen=True)
class Event:
    id: str
    person: Person | None
    unit: Unit
    kind: str
    day: int
    note: str


def holidays(cal: Calendar) -> list[tuple[int, str]]:
    """(day, name) of Spring Festival, 七一 and Double Ninth inside the window."""
    out: list[tuple[int, str]] = []
    for year in range(cal.start.year, cal.as_of.year + 1):
        spring = next((d for d in _SPRING if d.startswith(str(year))), f"{year}-02-01")
        ninth = next((d for d in _DOUBLE_NINTH if d.startswith(str(year))), f"{year}-10-15")
        for iso, name in ((spring, "春节"), (f"{year}-07-01", "“七一”建党节"), (ninth, "重阳节")):
            o = date.fromisoformat(iso).toordinal()
            if cal.first <= o <= cal.last:
                out.append((o, name))
    return out


def _birthday(p: Person, cal: Calendar) -> int | None:
    for year in range(cal.start.year, cal.as_of.year + 1):
        day = 28 if (p.birth.month, p.birth.day) == (2, 29) else p.birth.day
        o = date(year, p.birth.month, day).toordinal()
        if cal.first <= o <= cal.last and year - p.birth.year >= 80:
            return o
    return None


def events(rng: random.Random, units: list[Unit], people: list[Person], cal: Calendar,
           mk: RowMaker) -> tuple[list[Event], list[Row]]:
    out: list[Event] = []
    hol = holidays(cal)
    for u in units:
        for day, name in hol:
            out.append(Event(new_id(rng), None, u, "holiday", day, name))
        if rng.random() < 0.25:
            out.append(Event(new_id(rng), None, u, "new_leader", cal.day_in(rng, cal.first, cal.last - 20),
                             "单位新任主要领导到任"))
    for p in people:
        alive_to = p.deceased_on if p.deceased_on is not None else cal.last
        found: list[tuple[str, int]] = []
        b = _birthday(p, cal)
        if b is not None and b < alive_to:
            found.append(("birthday", b))
        if p.admitted_on is not None:
            found.append(("hospitalised", p.admitted_on))
        pr = {"good": 0.03, "chronic": 0.15, "serious": 0.5, "bedridden": 0.25}[p.health]
        if rng.random() < pr:
            found.append(("hospitalised", cal.day_in(rng, cal.first, alive_to - 1)))
        if p.health != "good" and rng.random() < 0.04:
            found.append(("illness", cal.day_in(rng, cal.first, alive_to - 1)))
        if rng.random() < (0.5 if p.hardship else 0.01):
            found.append(("hardship", cal.day_in(rng, cal.first, alive_to - 1)))
        bad = p.unit.practice is not None and p.unit.practice.tier != "good"
        if rng.random() < (0.06 if bad else 0.025):
            found.append(("complaint", cal.day_in(rng, cal.first, alive_to - 1)))
        if p.widowed_on is not None:
            found.append(("bereavement", p.widowed_on))
        if p.deceased_on is not None:
            found.append(("bereavement", p.deceased_on))
        for kind, day in found:
            note = "本人去世" if day == p.deceased_on and kind == "bereavement" else \
                "老伴去世" if kind == "bereavement" else texts.choose(rng, texts.EVENT_NOTES, kind)
            if kind == "birthday":
                note = f"{(date.fromordinal(day).year - p.birth.year)}岁寿辰"
            out.append(Event(new_id(rng), p, p.unit, kind, day, note))
    rows = [mk(id=e.id, unit_id=e.unit.id, retiree_id=e.person.id if e.person else None, kind=e.kind,
               occurred_on=cal.iso(e.day), reported_by=(e.person.staff_id if e.person else None),
               notes=e.note) for e in out]
    return out, rows


def _holiday_targets(e: Event, people: list[Person]) -> list[Person]:
    alive = [p for p in people if p.unit is e.unit and (p.deceased_on is None or p.deceased_on > e.day)]
    if e.kind == "new_leader":
        return [p for p in alive if p.category != "general"]
    if e.note == "春节":
        return [p for p in alive if p.category in ("lixiu", "county_level") or p.age >= 80 or p.hardship
                or p.health in ("serious", "bedridden") or p.lost_only_child or (p.living_alone and p.age >= 75)]
    if e.note == "重阳节":
        return [p for p in alive if p.age >= 80 or p.category == "lixiu"]
    return [p for p in alive if p.member_id is not None and p.age >= 75]


def _visit(rng: random.Random, p: Person, e: Event | None, day: int, occasion: str, cal: Calendar,
           mk: RowMaker) -> Row:
    pr = p.unit.practice
    r = rng.random()
    material = pr.material_share if pr else 0.3
    if occasion == "routine":
        material *= 0.3
    kind = "material" if r < material else "spiritual" if r < material + (1 - material) / 2 else "both"
    mode = "home"
    if e is not None and e.kind == "hospitalised" and rng.random() < 0.8:
        mode = "hospital"
    elif kind == "material" and occasion == "holiday_birthday" and pr and rng.random() < pr.office_pickup:
        mode = "office_pickup"
    elif p.can_attend and occasion in ("holiday_birthday", "routine") and rng.random() < 0.06:
        mode = "venue"
    policy = rng.random() < (0.03 if kind == "material" or mode == "office_pickup" else
                             (pr.policy_rate if pr else 0.8))
    gift: float | None = None
    if kind != "spiritual":
        base = {"holiday_birthday": (300, 800), "illness": (500, 1000), "hardship": (1000, 3000),
                "bereavement": (1000, 2000)}.get(occasion, (200, 500))
        gift = float(100 * rng.randint(base[0] // 100, base[1] // 100))
        if p.category == "lixiu" and occasion == "holiday_birthday":
            gift = 2000.0
    return mk(id=new_id(rng), unit_id=p.unit.id, retiree_id=p.id, staff_id=p.staff_id if rng.random() < 0.85
              else pick(rng, p.unit.staff_ids), event_id=e.id if e else None, visited_on=cal.iso(day),
              occasion=occasion, kind=kind, mode=mode, policy_conveyed=int(policy), gift_yuan=gift,
              notes=texts.choose(rng, texts.VISIT_NOTES, occasion))


def visits(rng: random.Random, evs: list[Event], people: list[Person], cal: Calendar, mk: RowMaker) -> list[Row]:
    rows: list[Row] = []
    occasion_of = dict(_OCCASION)
    by_unit: dict[str, list[Person]] = {}
    for p in people:
        by_unit.setdefault(p.unit.id, []).append(p)
    for e in evs:
        pr = e.unit.practice
        missing = pr.visit_missing if pr else 0.05
        on_time = pr.visit_on_time if pr else 0.9
        targets = [e.person] if e.person else _holiday_targets(e, by_unit.get(e.unit.id, []))
        for p in targets:
            if rng.random() < missing:
                continue
            if e.kind == "holiday":
                day = e.day - int(rng.random() * 10) if rng.random() < on_time else e.day + 8 + int(rng.random() * 20)
            else:
                day = e.day + (int(rng.random() * 8) if rng.random() < on_time else 8 + int(rng.random() * 38))
            dead = p.deceased_on is not None and day > p.deceased_on and e.kind != "bereavement"
            if day > cal.last or day < cal.first or dead:
                continue
            rows.append(_visit(rng, p, e, day, occasion_of[e.kind], cal, mk))
    for p in people:
        pr = p.unit.practice
        n = (pr.routine_visits if pr else 0.5) + (0.6 if not p.can_attend else 0.0)
        end = p.deceased_on - 1 if p.deceased_on is not None else cal.last
        while n > 0:
            if rng.random() < n:
                rows.append(_visit(rng, p, None, cal.day_in(rng, cal.first, end), "routine", cal, mk))
            n -= 1
    return rows
