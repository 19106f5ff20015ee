"""Who the seed's practices are for, defined once: the conditions behind the named lists (患病名单、
丧偶名单、独居名单 …), the four-nearby (四就近) target group and the rules that say who should be
offered which menu item (精准服务).

The auditors' canned queries (``server.audit``) and the public report (``reports_site``) both build
their SQL from these records, so a person is "in the four-nearby group" or "due emotional comfort" by
the same rule in both. A condition is an SQL predicate over the alias ``r`` of a ``retirees`` row; the
age condition is judged at a date given as SQL (:meth:`Condition.at`: ``p.today`` in a canned query,
the report month's end in the report).
"""

from __future__ import annotations

from dataclasses import dataclass

from schema.enums import CATEGORY

HIGH_AGE = 80
"""高龄: aged 80 or more (the seed's four-nearby group and the report's list of the very old)."""


@dataclass(frozen=True)
class Condition:
    """One yes/no fact about a retiree: ``code``, its Chinese label, and SQL over ``r`` (``{asof}``: the
    date it is judged at, where it depends on one)."""

    code: str
    zh: str
    sql: str

    def at(self, asof: str) -> str:
        """The predicate judged at ``asof`` (an SQL date expression)."""
        return self.sql.format(asof=asof)


CONDITIONS: dict[str, Condition] = {c.code: c for c in (
    Condition("alone", "独居", "r.living_alone = 1"),
    Condition("widowed", "丧偶", "r.marital_status = 'widowed'"),
    Condition("ill", "患病", "(r.health_status IN ('chronic', 'serious', 'bedridden') OR r.hospitalised = 1)"),
    Condition("aged80", "高龄", f"r.birth_date <= date({{asof}}, '-{HIGH_AGE} years')"),
    Condition("disabled", "失能", "r.disabled = 1"),
    Condition("lost_only_child", "失独", "r.lost_only_child = 1"),
    Condition("empty_nest", "空巢", "r.empty_nest = 1"),
    Condition("hardship", "经济困难", "r.financial_hardship = 1"),
    Condition("bedridden", "长期卧床", "r.health_status = 'bedridden'"),
    Condition("hospitalised", "正在住院", "r.hospitalised = 1"),
    Condition("serious", "重症", "r.health_status = 'serious'"),
    Condition("long_hospital", "长期住院", "r.residence_type = 'hospital'"),
    Condition("cannot_attend", "不能参加集中活动", "r.can_attend = 0"),
)}

FOUR_NEARBY: tuple[str, ...] = ("aged80", "disabled", "lost_only_child", "empty_nest", "hardship")
"""The four-nearby (四就近) target group: anyone meeting one of these conditions (高龄、失能、失独、空巢、
经济困难 — the very old, disabled, bereaved and poor)."""


@dataclass(frozen=True)
class Rule:
    """A targeting rule of the seed: retirees meeting any of ``conditions`` should get menu ``item``."""

    code: str
    item: str
    conditions: tuple[str, ...]

    def at(self, asof: str) -> str:
        """The rule's group as one predicate over ``r``."""
        return any_of(self.conditions, asof)


TARGETING: tuple[Rule, ...] = (
    Rule("comfort", "emotional_comfort", ("widowed", "bedridden")),
    Rule("health", "health_care", ("hospitalised", "serious", "long_hospital")),
    Rule("homecare", "home_care", ("cannot_attend",)),
)
"""The seed's targeting rules: the widowed and bedridden get emotional comfort (精神慰藉); the
long-hospitalised, those in hospital and the seriously ill get health care (医疗保健); those who cannot
attend group activities get home care (上门照顾). (The healthy get study and activities: no gap to find.)"""


def any_of(codes: tuple[str, ...], asof: str) -> str:
    """One predicate: any of the conditions ``codes``, judged at ``asof``."""
    return "(" + " OR ".join(CONDITIONS[c].at(asof) for c in codes) + ")"


CATEGORY_RANK: dict[str, int] = {code: i for i, code in enumerate(CATEGORY.codes())}
"""Each category's rank, highest first (离休 0 … 一般 3): a three-musts notice for a category is due to
that category and the ones above it (lower ranks)."""
RANKS_CTE = "ranks(code, rank) AS (VALUES " + ", ".join(f"('{c}', {i})" for c, i in CATEGORY_RANK.items()) + ")"
"""A common table expression ``ranks(code, rank)`` of :data:`CATEGORY_RANK`."""


def category_rank(expr: str) -> str:
    """SQL: the rank (:data:`CATEGORY_RANK`) of the category code in ``expr``, as an expression (no lookup)."""
    whens = " ".join(f"WHEN '{c}' THEN {i}" for c, i in CATEGORY_RANK.items())
    return f"(CASE {expr} {whens} END)"
