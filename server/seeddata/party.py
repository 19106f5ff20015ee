"""Party organisation: branches (单独组建/联合组建/特设), members, 三会一课 meetings, attendance, 送学上门.

Branches are formed within a county: big units get their own branch, small ones share a joint
branch, and special branches (特设党支部) gather 离休 cadres, retirees of division rank and above,
township organs, residents of one community, a venue, an interest group or an association. Members
who can no longer attend are mostly absent; some get study delivered home, some are never reached.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from server.seeddata import texts
from server.seeddata.common import Calendar, Row, RowMaker, new_id, pick, sample_weighted
from server.seeddata.org import Chunk, Unit
from server.seeddata.roster import Person

_GENERAL_BASES = ("residence", "township_organs", "venue", "interest", "association")
_ROTATION = ("senior_rank", *_GENERAL_BASES)
_MEMBER_WEIGHT = (("lixiu", 1e6), ("county_level", 40.0), ("section_level", 5.0), ("general", 1.0))


class Rotation:
    """Cycles the special-branch bases (other than 离休) across counties so every basis appears."""

    def __init__(self) -> None:
        self.i = 0

    def next(self, senior_ok: bool) -> str:
        while True:
            b = _ROTATION[self.i % len(_ROTATION)]
            self.i += 1
            if b != "senior_rank" or senior_ok:
                return b


@dataclass
class Branch:
    id: str
    unit: Unit
    kind: str
    basis: str | None
    name: str
    members: list[Person] = field(default_factory=list)
    committee: int = 1
    """The first ``committee`` members (secretary and committee) attend committee meetings."""


def select_members(rng: random.Random, people: list[Person], quota: int) -> list[Person]:
    weights = [dict(_MEMBER_WEIGHT)[p.category] * (1.3 if p.age >= 75 else 1.0) for p in people]
    return [people[i] for i in sample_weighted(rng, weights, min(quota, len(people)))]


def _special_name(rng: random.Random, chunk: Chunk, basis: str, host: Unit) -> str:
    h = chunk.head.name
    return {
        "lixiu": f"{h}离休干部特设党支部",
        "senior_rank": f"{h}处级以上退休干部特设党支部",
        "township_organs": f"{host.town}机关站所退休干部特设党支部",
        "residence": f"{host.town}{pick(rng, chunk.stems)}社区退休干部特设党支部",
        "venue": f"{h}老干部活动中心特设党支部",
        "interest": f"{h}老年{pick(rng, ('书画', '合唱', '门球', '摄影'))}协会特设党支部",
        "association": f"{h}{pick(rng, ('老年体育协会', '老年大学', '关心下一代工作委员会'))}特设党支部",
    }[basis]


def branches(rng: random.Random, chunk: Chunk, members: list[Person], k: int, rot: Rotation) -> list[Branch]:
    """``k`` branches for the chunk with every member placed in one."""
    by_unit: dict[str, list[Person]] = {}
    for m in members:
        by_unit.setdefault(m.unit.id, []).append(m)
    units = sorted((u for u in chunk.units if u.id in by_unit), key=lambda u: (-len(by_unit[u.id]), u.code))
    towns = [u for u in chunk.units if u.township] or [chunk.head]
    s = 0 if k < 2 else max(1, round(k * 0.3))
    r = min(k - s, max(1, round(k * 0.45)), sum(1 for u in units if len(by_unit[u.id]) >= 8) or 1)
    out: list[Branch] = []
    n_lixiu = sum(1 for m in members if m.category == "lixiu")
    n_senior = sum(1 for m in members if m.category == "county_level")
    for i in range(s):
        taken = {b.basis for b in out}
        basis = "lixiu" if i == 0 and n_lixiu >= 2 else rot.next(n_senior >= 3 and "senior_rank" not in taken)
        if basis in taken and basis != "residence":
            basis = "residence"
        host = pick(rng, towns) if basis in ("township_organs", "residence") else chunk.head
        out.append(Branch(new_id(rng), host, "special", basis, _special_name(rng, chunk, basis, host)))
    for u in units[:r]:
        out.append(Branch(new_id(rng), u, "regular", None, f"{u.name}离退休干部党支部"))
    rest = [u for u in units if u not in units[:r]]
    joints = [Branch(new_id(rng), (rest[j] if j < len(rest) else chunk.head), "joint", None,
                     f"{chunk.head.name}{pick(rng, chunk.stems)}片区离退休干部联合党支部")
              for j in range(k - len(out))]
    out.extend(joints)
    seen: dict[str, int] = {}
    for b in out:
        seen[b.name] = seen.get(b.name, 0) + 1
        if seen[b.name] > 1:
            b.name = b.name.replace("党支部", f"第{seen[b.name]}党支部")
    own = {b.unit.id: b for b in out if b.kind == "regular"}
    joint_of = {u.id: joints[i % len(joints)] for i, u in enumerate(rest)} if joints else {}
    lixiu = next((b for b in out if b.basis == "lixiu"), None)
    senior = next((b for b in out if b.basis == "senior_rank"), None)
    general = [b for b in out if b.kind == "special" and b.basis in _GENERAL_BASES]
    for m in members:
        r_ = rng.random()
        if m.category == "lixiu" and lixiu is not None:
            b = lixiu
        elif m.category == "county_level" and senior is not None and r_ < 0.7:
            b = senior
        elif general and r_ < 0.15:
            b = pick(rng, general)
        else:
            b = own.get(m.unit.id) or joint_of.get(m.unit.id) or (pick(rng, general) if general else out[0])
        b.members.append(m)
    for b in out:
        while len(b.members) < 3:
            donor = max(out, key=lambda x: len(x.members))
            if len(donor.members) <= 3:
                break
            b.members.append(donor.members.pop())
    return out


def branch_rows(rng: random.Random, bs: list[Branch], cal: Calendar, mk: RowMaker) -> list[Row]:
    rows = []
    for b in bs:
        lo, hi = {"regular": (1990, 2015), "joint": (2005, 2020), "special": (2019, 2024)}[b.kind]
        year = min(rng.randint(lo, hi), cal.as_of.year - 1)
        rows.append(mk(id=b.id, unit_id=b.unit.id, name=b.name, kind=b.kind, special_basis=b.basis,
                       founded_on=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"))
    return rows


def member_rows(rng: random.Random, bs: list[Branch], cal: Calendar, mk: RowMaker) -> list[Row]:
    rows = []
    for b in bs:
        ranked = sorted(b.members, key=lambda p: (not p.can_attend, p.category == "general", p.id))
        n_committee = min(len(ranked) - 1, 2 + int(rng.random() * 3))
        b.members = ranked
        b.committee = n_committee + 1
        for i, p in enumerate(ranked):
            p.member_id = new_id(rng)
            role = "secretary" if i == 0 else "committee" if i <= n_committee else \
                "group_leader" if len(ranked) > 20 and i % 10 == 0 else "member"
            if p.category == "lixiu":
                y = rng.randint(1940, 1949)
            else:
                y = min(p.birth.year + rng.randint(19, 40), p.birth.year + 58, cal.as_of.year - 1)
            rows.append(mk(id=p.member_id, unit_id=p.unit.id, retiree_id=p.id, branch_id=b.id, role=role,
                           joined_on=f"{y}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"))
    return rows


def _schedule(month: int, big: bool) -> list[str]:
    kinds = ["committee", "member_assembly" if month % 3 == 0 else ("group" if big else "theme_study")]
    if month % 3 == 1:
        kinds.append("lecture")
    if month in (5, 8):
        kinds.append("theme_study")
    return kinds


def meetings(rng: random.Random, bs: list[Branch], venues: list[tuple[str, str]], cal: Calendar,
             mks: tuple[RowMaker, RowMaker, RowMaker]) -> tuple[list[Row], list[Row], list[Row]]:
    """Meetings, attendance and home study for the chunk's branches over the year."""
    mk_meet, mk_att, mk_home = mks
    meet_rows: list[Row] = []
    att_rows: list[Row] = []
    home_rows: list[Row] = []
    unit_venue = dict(venues)
    for b in bs:
        held_rate = 0.97 if b.unit.practice is None or b.unit.practice.tier == "good" else 0.8
        never = {p.id for p in b.members if not p.can_attend and p.unit.practice is not None
                 and rng.random() < p.unit.practice.never_reached}
        appraisal_month = 2 + int(rng.random() * 2)
        for mi, (first, last) in enumerate(cal.months):
            kinds = _schedule(mi, len(b.members) > 20)
            if mi == appraisal_month:
                kinds.append("appraisal")
            for kind in kinds:
                if kind != "appraisal" and rng.random() > held_rate:
                    continue
                day = cal.day_in(rng, first, last)
                mid = new_id(rng)
                topic = texts.choose(rng, texts.MEETING_TOPICS, kind)
                venue = unit_venue.get(b.unit.id) or (pick(rng, venues)[1] if venues else None)
                meet_rows.append(mk_meet(id=mid, unit_id=b.unit.id, branch_id=b.id, kind=kind,
                                         held_on=cal.iso(day), topic=topic, venue_id=venue))
                for i, p in enumerate(b.members):
                    if (p.deceased_on is not None and p.deceased_on <= day) or (kind == "committee" and i >= b.committee):
                        continue
                    r = rng.random()
                    if not p.can_attend:
                        status = "absent_ill" if r < 0.8 else "present" if r < 0.9 else "absent_other"
                    else:
                        status = "present" if r < 0.86 else "absent_away" if r < 0.94 else \
                            "absent_other" if r < 0.98 else "absent_ill"
                    rating = None
                    if kind == "appraisal":
                        r = rng.random()
                        rating = "excellent" if r < 0.2 else "qualified" if r < 0.94 else \
                            "basic" if r < 0.99 else "unqualified"
                    att_rows.append(mk_att(id=new_id(rng), unit_id=b.unit.id, meeting_id=mid,
                                           member_id=p.member_id, status=status, appraisal=rating))
                    if status == "present" or kind == "committee" or p.id in never:
                        continue
                    pr = p.unit.practice
                    rate = (pr.home_study_rate if pr else 0.8) * (1.0 if not p.can_attend else 0.2)
                    if rng.random() < rate:
                        when = day + 1 + int(rng.random() * 20)
                        if when > cal.last or (p.deceased_on is not None and when >= p.deceased_on):
                            continue
                        form = pick(rng, ("in_person", "in_person", "materials", "audio_video", "phone"))
                        home_rows.append(mk_home(id=new_id(rng), unit_id=p.unit.id, member_id=p.member_id,
                                                 staff_id=p.staff_id, meeting_id=mid, delivered_on=cal.iso(when),
                                                 form=form, topic=topic))
    return meet_rows, att_rows, home_rows
