"""Monthly contacts (每月电话联系一次) and the roster history they feed (信息动态化).

Most retirees are reached most months; some units let some retirees go uncontacted for a run of
months. A change in a retiree's situation (widowhood, admission to hospital, worse health, a new
phone or address) is recorded as roster history at the first contact that reaches them after it —
so a retiree nobody contacts keeps stale information, which is the point of the monthly rule.
"""

from __future__ import annotations

import random

from server.seeddata import names, texts
from server.seeddata.common import Calendar, Row, RowMaker, new_id
from server.seeddata.roster import Person

Change = tuple[int, str, str | None, str | None]
"""(day ordinal, field, old value, new value)."""


def _changes(rng: random.Random, p: Person, cal: Calendar, values: dict[str, object]) -> list[Change]:
    out: list[Change] = []
    if p.widowed_on is not None:
        out.append((p.widowed_on, "marital_status", "married", "widowed"))
        if p.living_alone:
            out.append((p.widowed_on + 1, "living_alone", "0", "1"))
    if p.admitted_on is not None:
        out.append((p.admitted_on, "hospitalised", "0", "1"))
        if p.residence == "hospital":
            out.append((p.admitted_on + 30, "residence_type", "own_home", "hospital"))
    if p.health in ("serious", "bedridden") and rng.random() < 0.15:
        old = "chronic" if p.health == "serious" else "serious"
        out.append((cal.day_in(rng, cal.first, cal.last), "health_status", old, p.health))
    r = rng.random()
    if r < 0.03 and p.phone:
        out.append((cal.day_in(rng, cal.first, cal.last), "phone", names.mobile(rng), p.phone))
    elif r < 0.05 and p.residence == "with_children":
        out.append((cal.day_in(rng, cal.first, cal.last), "residence_type", "own_home", "with_children"))
    elif r < 0.07 and values.get("hobbies"):
        out.append((cal.day_in(rng, cal.first, cal.last), "hobbies", None, str(values["hobbies"])))
    elif r < 0.09 and values.get("health_notes"):
        out.append((cal.day_in(rng, cal.first, cal.last), "health_notes", None, str(values["health_notes"])))
    return sorted(out, key=lambda c: c[0])


def contacts(rng: random.Random, people: list[Person], values: list[dict[str, object]], cal: Calendar,
             mk_contact: RowMaker, mk_history: RowMaker) -> tuple[list[Row], list[Row]]:
    rows: list[Row] = []
    hist: list[Row] = []
    rand = rng.random
    months = cal.months
    for p, vals in zip(people, values, strict=True):
        pr = p.unit.practice
        rate = pr.contact_rate if pr else 0.95
        gap_lo = gap_hi = -1
        if pr and rand() < pr.neglect_share:
            gap_lo = int(rand() * 10)
            gap_hi = gap_lo + 2 + int(rand() * 5)
        fam_p = 0.15 + (0.45 if (p.age >= 85 or p.health in ("serious", "bedridden") or p.hospitalised
                                 or p.residence == "hospital") else 0.0)
        pending = _changes(rng, p, cal, vals)
        end = p.deceased_on - 1 if p.deceased_on is not None else cal.last
        for mi, (first, last) in enumerate(months):
            if first > end or gap_lo <= mi <= gap_hi or rand() > rate:
                continue
            times = 2 if rand() < 0.05 else 1
            for _ in range(times):
                day = first + int(rand() * (min(last, end) - first + 1))
                r = rand()
                channel = "phone" if r < 0.8 else "message" if r < 0.88 else "in_person" if r < 0.96 else "video"
                family = rand() < fam_p
                reached = rand() < 0.94
                staff = p.staff_id if rand() < 0.9 else p.unit.staff_ids[int(rand() * len(p.unit.staff_ids))]
                due = [c for c in pending if c[0] <= day] if reached and pending else []
                cid = new_id(rng)
                rows.append(mk_contact(id=cid, unit_id=p.unit.id, retiree_id=p.id, staff_id=staff,
                                       contacted_on=cal.iso(day), channel=channel,
                                       with_whom="family" if family else "self", reached=int(reached),
                                       info_updated=int(bool(due)), notes=texts.contact_note(rng, reached, family)))
                for c in due:
                    hist.append(mk_history(id=new_id(rng), unit_id=p.unit.id, retiree_id=p.id, field=c[1],
                                           old_value=c[2], new_value=c[3], changed_at=cal.stamp(rng, day),
                                           changed_by=staff))
                    pending.remove(c)
        if p.deceased_on is not None:
            day = min(p.deceased_on + 1 + int(rand() * 5), cal.last)
            hist.append(mk_history(id=new_id(rng), unit_id=p.unit.id, retiree_id=p.id, field="deceased_on",
                                   old_value=None, new_value=cal.iso(p.deceased_on),
                                   changed_at=cal.stamp(rng, day), changed_by=p.staff_id))
    return rows, hist
