"""How well each township or department does the work: the weaknesses the seed names, varied by unit.

The seed criticises units that treat the work as a "soft target" (抓而不实): retirees left
uncontacted for months, visits late or missing, "much material, little spiritual" (物质慰问多、精神
慰问少), families told to collect gifts at the office (电话通知家属到办公室领取), activities over
education (文体活动多、思想教育少), group study but no study delivered home (集中学习多、送学上门少),
and generic rather than targeted service. Each unit draws a tier and a few independent habits so the
oversight queries and reports have something to find, and not the same thing everywhere.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Practice:
    tier: str
    """``good``, ``lax`` or ``poor``."""
    contact_rate: float
    """Chance a retiree is contacted in a given month."""
    neglect_share: float
    """Share of the unit's retirees left uncontacted for a run of months."""
    visit_on_time: float
    """Chance a must-visit happens within 7 days of the event."""
    visit_missing: float
    """Chance a must-visit never happens."""
    material_share: float
    """Share of visits that are material only (the rest spiritual or both)."""
    office_pickup: float
    """Chance a material holiday visit is 'come and collect it at the office'."""
    policy_rate: float
    """Chance policy is conveyed on a spiritual visit."""
    routine_visits: float
    """Routine visits per retiree per year."""
    targeting: float
    """Chance a service order follows the seed's targeting rules."""
    entertainment_bias: bool
    """Orders lean to cultural/sports activities (重乐轻教)."""
    order_rate: float
    """Service orders per retiree per year."""
    order_backlog: float
    """Chance an order is left open or assigned without being done."""
    home_study_rate: float
    """Chance a member absent from a meeting gets study delivered home."""
    never_reached: float
    """Share of members who cannot attend and never get study delivered home."""
    musts_rate: float
    """Chance a 'three musts' item actually reaches a retiree it should."""
    four_nearby: float
    """Share of eligible retirees enrolled in the four-nearby service."""
    help_resolve: float
    """Chance a three-helps case gets resolved."""
    satisfaction: float
    """Mean satisfaction (1–5) of fulfilled orders."""
    five_haves: float
    """Chance each of a venue's five-haves is in place."""


def _between(rng: random.Random, lo: float, hi: float) -> float:
    return lo + (hi - lo) * rng.random()


def make(rng: random.Random) -> Practice:
    r = rng.random()
    tier = "good" if r < 0.55 else "lax" if r < 0.85 else "poor"
    good, poor = tier == "good", tier == "poor"
    material_heavy = rng.random() < (0.15 if good else 0.45)
    return Practice(
        tier=tier,
        contact_rate=_between(rng, 0.95, 0.995) if good else _between(rng, 0.55, 0.75) if poor
        else _between(rng, 0.8, 0.93),
        neglect_share=0.0 if good and rng.random() < 0.7 else _between(rng, 0.02, 0.06) if good
        else _between(rng, 0.05, 0.25),
        visit_on_time=_between(rng, 0.85, 0.98) if good else _between(rng, 0.35, 0.6) if poor
        else _between(rng, 0.6, 0.85),
        visit_missing=_between(rng, 0.0, 0.04) if good else _between(rng, 0.15, 0.35) if poor
        else _between(rng, 0.04, 0.15),
        material_share=_between(rng, 0.55, 0.85) if material_heavy else _between(rng, 0.15, 0.35),
        office_pickup=_between(rng, 0.3, 0.7) if (not good and rng.random() < 0.25) else 0.0,
        policy_rate=_between(rng, 0.75, 0.95) if good else _between(rng, 0.3, 0.7),
        routine_visits=_between(rng, 0.4, 0.9) if good else _between(rng, 0.05, 0.35),
        targeting=_between(rng, 0.85, 0.98) if good else _between(rng, 0.3, 0.7),
        entertainment_bias=rng.random() < (0.1 if good else 0.35),
        order_rate=_between(rng, 1.2, 2.2) if good else _between(rng, 0.3, 1.0),
        order_backlog=_between(rng, 0.01, 0.05) if good else _between(rng, 0.1, 0.3),
        home_study_rate=_between(rng, 0.7, 0.95) if good and rng.random() < 0.8 else _between(rng, 0.05, 0.4),
        never_reached=_between(rng, 0.0, 0.05) if good else _between(rng, 0.15, 0.5),
        musts_rate=_between(rng, 0.9, 1.0) if good else _between(rng, 0.5, 0.85),
        four_nearby=_between(rng, 0.7, 0.95) if good else _between(rng, 0.1, 0.5),
        help_resolve=_between(rng, 0.75, 0.92) if good else _between(rng, 0.4, 0.7),
        satisfaction=_between(rng, 4.3, 4.8) if good else _between(rng, 3.2, 4.2),
        five_haves=_between(rng, 0.85, 1.0) if good else _between(rng, 0.45, 0.8),
    )
