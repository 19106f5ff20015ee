"""Party groups (党小组) and dual membership (双重管理) for a county's branches.

The seed sets up party groups “根据居住地和兴趣爱好”, and has special branches (特设党支部) manage members whose
formal affiliation stays elsewhere (“两不、一方、两双”: 一方隶属、双重管理、双边活动). Branches with enough
members get groups by residence, hobby or otherwise, and most of their members join one; every special
branch gathered by residence, venue, hobby, association or township organs also manages some of the county's
members formally in another branch, who take part in its meetings.

All of it is drawn from a generator of its own, seeded from the county's head unit: the rest of the
county's data (which draws from the shared generator) is the same with or without it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from server.seeddata.common import Row, RowMaker, new_id, pick
from server.seeddata.party import Branch
from server.seeddata.roster import Person

_DUAL_BASES = frozenset({"residence", "township_organs", "venue", "interest", "association"})
"""Special branches that gather members from elsewhere (离休 and senior-rank branches hold them formally)."""
_HOBBIES = ("书画", "合唱", "门球", "太极", "摄影", "诗词", "健步走", "戏曲")
_GROUP_SIZE = 12
_MIN_FOR_GROUPS = 8


def rng_for(head_id: str) -> random.Random:
    """The county's own generator for groups and dual memberships (string seeds hash the same everywhere)."""
    return random.Random(f"party-groups-dual:{head_id}")


@dataclass
class Dual:
    """What :func:`plan` adds to a county's party data."""

    groups: list[Row] = field(default_factory=list)
    group_of: dict[str, str] = field(default_factory=dict)
    """Membership row id -> its party group."""
    members: list[Row] = field(default_factory=list)
    attending: dict[str, list[tuple[Person, str]]] = field(default_factory=dict)
    """Special branch id -> its dual members (person, membership row id), for its meetings."""


def _basis(rng: random.Random, b: Branch) -> str:
    if b.basis in ("residence", "township_organs"):
        return "residence"
    if b.basis in ("interest", "venue", "association"):
        return "interest"
    r = rng.random()
    return "residence" if r < 0.6 else "interest" if r < 0.9 else "other"


def _group_name(rng: random.Random, b: Branch, basis: str, i: int, stems: list[str]) -> str:
    if basis == "residence":
        return f"{pick(rng, stems)}{pick(rng, ('小区', '片区', '社区'))}党小组"
    if basis == "interest":
        return f"{pick(rng, _HOBBIES)}党小组"
    return f"第{i + 1}党小组"


def plan(rng: random.Random, bs: list[Branch], member_rows: list[Row], stems: list[str],
         mk_group: RowMaker, mk_member: RowMaker) -> Dual:
    """Groups for the branches ``bs`` (whose formal members ``member_rows`` already hold), each member's
    group, and the dual memberships of the special branches."""
    out = Dual()
    groups_of: dict[str, list[str]] = {}
    for b in bs:
        if len(b.members) < _MIN_FOR_GROUPS:
            continue
        names: set[str] = set()
        for i in range(min(5, max(1, len(b.members) // _GROUP_SIZE))):
            basis = _basis(rng, b)
            name = _group_name(rng, b, basis, i, stems)
            if name in names:
                name = f"第{i + 1}党小组"
            names.add(name)
            gid = new_id(rng)
            groups_of.setdefault(b.id, []).append(gid)
            out.groups.append(mk_group(id=gid, unit_id=b.unit.id, branch_id=b.id, name=name, basis=basis))
    for r in member_rows:
        gs = groups_of.get(str(r.branch_id))  # type: ignore[attr-defined]
        if gs and rng.random() < 0.85:
            out.group_of[str(r.id)] = pick(rng, gs)  # type: ignore[attr-defined]
    joined = {str(r.retiree_id): str(r.joined_on) for r in member_rows}  # type: ignore[attr-defined]
    formal_branch = {p.id: b.id for b in bs for p in b.members}
    people = sorted((p for b in bs for p in b.members if p.deceased_on is None), key=lambda p: p.id)
    for b in bs:
        if b.kind != "special" or b.basis not in _DUAL_BASES:
            continue
        # the membership lives in the member's unit: take members the branch's unit can see (its own, or
        # every unit of the county for a branch of the county itself)
        others = [p for p in people if formal_branch[p.id] != b.id
                  and (p.unit.id == b.unit.id or p.unit.parent_id == b.unit.id)]
        n = min(len(others), max(2, round(len(b.members) * (0.2 + 0.2 * rng.random()))))
        if n == 0:
            continue
        chosen = sorted(rng.sample(others, n), key=lambda p: p.id)
        gs = groups_of.get(b.id)
        for p in chosen:
            mid = new_id(rng)
            out.members.append(mk_member(id=mid, unit_id=p.unit.id, retiree_id=p.id, branch_id=b.id, role="member",
                                         joined_on=joined[p.id], relation="dual",
                                         group_id=pick(rng, gs) if gs and rng.random() < 0.7 else None))
            out.attending.setdefault(b.id, []).append((p, mid))
    return out


def with_groups(member_rows: list[Row], group_of: dict[str, str]) -> list[Row]:
    """``member_rows`` with their party group set."""
    return [r._replace(group_id=group_of[str(r.id)]) if str(r.id) in group_of else r  # type: ignore[attr-defined]
            for r in member_rows]


def attendance(rng: random.Random, dual: Dual, meet_rows: list[Row], mk_att: RowMaker) -> list[Row]:
    """The dual members' attendance at their special branch's meetings (双边活动): every meeting but the
    branch committee's and the democratic appraisal (held where the member's formal affiliation is)."""
    out: list[Row] = []
    for m in meet_rows:
        members = dual.attending.get(str(m.branch_id))  # type: ignore[attr-defined]
        if not members or m.kind in ("committee", "appraisal"):  # type: ignore[attr-defined]
            continue
        day = date.fromisoformat(str(m.held_on)).toordinal()  # type: ignore[attr-defined]
        for p, mid in members:
            if p.deceased_on is not None and p.deceased_on <= day:
                continue
            r = rng.random()
            status = ("present" if r < 0.8 else "absent_away" if r < 0.92 else "absent_other") if p.can_attend \
                else ("present" if r < 0.15 else "absent_ill")
            out.append(mk_att(id=new_id(rng), unit_id=m.unit_id, meeting_id=m.id,  # type: ignore[attr-defined]
                              member_id=mid, status=status, appraisal=None))
    return out
