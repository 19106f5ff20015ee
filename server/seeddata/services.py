"""Three musts (三必须), three helps (三帮助) and service orders (订单式服务).

Orders follow the seed's targeting rules in most units: the healthy get group study and
cultural/sports activities; those who cannot attend get care at home (and members study at home);
the widowed and bedridden get emotional comfort; the hospitalised and seriously ill get health care.
Lax units hand out whatever is easiest (often activities: 重乐轻教) and leave orders open for weeks.
"""

from __future__ import annotations

import math
import random
from datetime import date

from server.seeddata import texts
from server.seeddata.common import Calendar, Row, RowMaker, new_id, pick
from server.seeddata.roster import Person
from server.seeddata.visits import Event

DOCS_PER = (("lixiu", 6), ("county_level", 6), ("section_level", 3), ("general", 1))
"""How many of the documents (the first ones of ``texts.MUST_ITEMS``) each category gets."""
MEETINGS_PER = (("lixiu", 5), ("county_level", 4), ("section_level", 2), ("general", 0))
"""How many of the meetings each category is invited to (a few of the others to the first one too)."""
GUIDES_PER = (("lixiu", 3), ("county_level", 3), ("section_level", 3), ("general", 1))
"""How many of the guidance items each category gets for sure (the others one more, half the time)."""
_PROVIDERS = (
    ("home_care", ("meal_delivery", "neighbour_help", "volunteer", "love_supermarket", "merchant")),
    ("health_care", ("medical",)),
    ("cultural_sports", ("cultural_group",)),
    ("emotional_comfort", ("volunteer", "neighbour_help")),
    ("counselling", ("volunteer",)),
)


def _release(rng: random.Random, cal: Calendar, month: int) -> int:
    """The day an item goes out: early in its month of the window, or any day if ``month`` is 0."""
    for first, last in cal.months:
        if month and date.fromordinal(first).month == month:
            return cal.day_in(rng, first, min(first + 14, last))
    return cal.day_in(rng, cal.first, cal.last - 25)


def musts(rng: random.Random, people: list[Person], cal: Calendar, mk: RowMaker) -> list[Row]:
    rows: list[Row] = []
    release: dict[tuple[str, str], int] = {}
    titles: dict[str, str] = {}
    for first, _ in cal.months:
        for _, options in texts.MUST_ITEMS:
            for item, month in options:
                if month == date.fromordinal(first).month or (month == 0 and item not in titles):
                    titles[item] = item.format(y=date.fromordinal(first).year)
    docs, meets, guides = (options for _, options in texts.MUST_ITEMS)
    docs_per, meets_per = dict(DOCS_PER), dict(MEETINGS_PER)
    for p in people:
        pr = p.unit.practice
        rate = pr.musts_rate if pr else 0.95
        end = p.deceased_on - 1 if p.deceased_on is not None else cal.last
        n_guides = 3 if p.category != "general" else 1 + int(rng.random() * 2)
        items = [("document", d) for d in docs[: docs_per[p.category]]] + \
            [("meeting", m) for m in meets[: meets_per[p.category]]] + \
            [("guidance", g) for g in guides[:n_guides]]
        if p.category == "general" and rng.random() < 0.3:
            items.append(("meeting", meets[0]))
        for kind, (item, month) in items:
            if rng.random() > rate:
                continue
            key = (p.unit.id, item)
            if key not in release:
                release[key] = _release(rng, cal, month)
            day = release[key] + int(rng.random() * (10 if kind == "meeting" else 21))
            if day > end:
                continue
            r = rng.random()
            if kind == "document":
                method = "in_person" if r < 0.55 else "mail" if r < 0.7 else "message"
            elif kind == "meeting":
                method = "phone" if r < 0.5 else "message" if r < 0.8 else "in_person"
            else:
                method = "meeting" if p.can_attend and r < 0.55 else "in_person" if r < 0.8 else \
                    "phone" if r < 0.92 else "message"
            rows.append(mk(id=new_id(rng), unit_id=p.unit.id, retiree_id=p.id, staff_id=p.staff_id, kind=kind,
                           item=titles[item], delivered_on=cal.iso(day), method=method))
    return rows


def helps(rng: random.Random, people: list[Person], evs: list[Event], cal: Calendar, mk: RowMaker) -> list[Row]:
    cases: list[tuple[Person, str, int]] = []
    for e in evs:
        if e.person is None or e.day == e.person.deceased_on:
            continue
        r = rng.random()
        if e.kind == "hardship" and r < 0.8:
            cases.append((e.person, "hardship", e.day))
        elif e.kind == "complaint":
            cases.append((e.person, "interests" if r < 0.6 else "worries", e.day))
        elif e.kind == "bereavement" and r < 0.5:
            cases.append((e.person, "worries", e.day + 3))
    for p in people:
        if rng.random() < 0.015 and p.deceased_on is None:
            cases.append((p, "interests", cal.day_in(rng, cal.first, cal.last)))
    rows: list[Row] = []
    for p, kind, day in cases:
        day = min(day, cal.last)
        pr = p.unit.practice
        resolve = pr.help_resolve if pr else 0.8
        done = day + 2 + int(rng.random() * 40)
        r = rng.random()
        if r < resolve and done <= cal.last:
            status, closed = "resolved", done
        elif cal.last - day < 14:
            status, closed = "open", None
        else:
            r = rng.random()
            status = "referred" if r < 0.45 else "unresolved" if r < 0.75 else "open"
            closed = min(done, cal.last) if status == "unresolved" else None
        rows.append(mk(id=new_id(rng), unit_id=p.unit.id, retiree_id=p.id, staff_id=p.staff_id, kind=kind,
                       raised_on=cal.iso(day), status=status, resolved_on=cal.iso(closed) if closed else None,
                       details=texts.choose(rng, texts.HELP_DETAILS, kind)))
    return rows


def _targeted(rng: random.Random, p: Person, entertainment: bool) -> str:
    if p.hospitalised or p.residence == "hospital" or p.health == "serious":
        return "health_care"
    if p.marital == "widowed" or p.health == "bedridden":
        return "emotional_comfort" if rng.random() < 0.8 else "counselling"
    if not p.can_attend:
        return "home_study" if p.member_id is not None and rng.random() < 0.5 else "home_care"
    if rng.random() < 0.08:
        return "counselling"
    return "cultural_sports" if rng.random() < (0.85 if entertainment else 0.5) else "group_study"


def _untargeted(rng: random.Random, entertainment: bool) -> str:
    r = rng.random()
    if entertainment and r < 0.6:
        return "cultural_sports"
    return pick(rng, ("group_study", "group_study", "cultural_sports", "home_care", "counselling", "health_care"))


def orders(rng: random.Random, people: list[Person], cal: Calendar, resources: list[tuple[str, str, str]],
           venues: list[tuple[str, str]], head_id: str, mk: RowMaker) -> list[Row]:
    rows: list[Row] = []
    by_kind: dict[tuple[str, str], list[str]] = {}
    for unit_id, kind, rid in resources:
        by_kind.setdefault((unit_id, kind), []).append(rid)
    providers = dict(_PROVIDERS)
    unit_venue = dict(venues)
    for p in people:
        pr = p.unit.practice
        rate = pr.order_rate if pr else 1.0
        n = int(rate) + (1 if rng.random() < rate - math.floor(rate) else 0)
        end = p.deceased_on - 1 if p.deceased_on is not None else cal.last
        for _ in range(n):
            follows = rng.random() < (pr.targeting if pr else 0.9)
            bias = pr.entertainment_bias if pr else False
            item = _targeted(rng, p, bias) if follows else _untargeted(rng, bias)
            req = cal.day_in(rng, cal.first, end)
            backlog = pr.order_backlog if pr else 0.03
            gap = 3 if pr is None or pr.tier == "good" else 10
            assigned_on = req + int(rng.random() * gap)
            done = assigned_on + 1 + int(rng.random() * 10)
            r = rng.random()
            if r < backlog:
                status = "open" if rng.random() < 0.5 else "assigned"
            elif r < backlog + 0.04 or (p.deceased_on is not None and done > p.deceased_on):
                status = "cancelled"
            else:
                status = "fulfilled"
            if status == "fulfilled" and done > cal.last:
                status = "assigned" if assigned_on <= cal.last else "open"
            if status == "assigned" and assigned_on > cal.last:
                status = "open"
            assigned = status in ("assigned", "fulfilled") or (status == "cancelled" and rng.random() < 0.5)
            provider = None
            kinds = providers.get(item)
            if kinds and status != "open" and rng.random() < 0.6:
                pool = by_kind.get((p.unit.id, pick(rng, kinds))) or by_kind.get((head_id, kinds[0]))
                provider = pick(rng, pool) if pool else None
            venue = None
            if item in ("group_study", "cultural_sports"):
                venue = unit_venue.get(p.unit.id) or unit_venue.get(head_id)
            satisfaction = None
            if status == "fulfilled" and rng.random() < 0.9:
                mean = pr.satisfaction if pr else 4.5
                satisfaction = max(1, min(5, round(rng.gauss(mean, 0.7))))
            rows.append(mk(id=new_id(rng), unit_id=p.unit.id, retiree_id=p.id, item=item, requested_on=cal.iso(req),
                           status=status, assigned_to=pick(rng, p.unit.staff_ids) if assigned else None,
                           assigned_on=cal.iso(min(assigned_on, cal.last)) if assigned else None,
                           fulfilled_on=cal.iso(done) if status == "fulfilled" else None,
                           provider_id=provider, venue_id=venue, satisfaction=satisfaction))
    return rows
