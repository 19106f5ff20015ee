"""The org-unit tree the site is organised by: city (or province) → county/district → township/department.

Every real unit gets a page. A unit that has children *and* rows of its own (retirees, staff, visits
attached to the county itself) also gets a pseudo child, "本级" (``<id>#self``): its numbers can be
derived as parent minus children, so disclosure control must treat them as published cells. It is
shown as a row of its parent's table, never as a page.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace

from reports_site.errors import ReportError
from schema.enums import UNIT_LEVEL

SELF = "#self"
ALL = "*"
_SLUG = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


@dataclass(frozen=True)
class Unit:
    key: str
    """The unit's id; ``<parent id>#self`` for a "本级" pseudo unit; ``*`` for a synthetic root."""
    code: str
    name: str
    level: str
    parent: str | None
    depth: int

    @property
    def is_self(self) -> bool:
        return self.key.endswith(SELF)

    @property
    def level_zh(self) -> str:
        if self.level in UNIT_LEVEL.codes():
            return UNIT_LEVEL.label(self.level)
        return "本级" if self.is_self else "全部"


@dataclass(frozen=True)
class UnitTree:
    root: str
    units: dict[str, Unit]
    children: dict[str, tuple[str, ...]]
    slugs: dict[str, str]

    @property
    def order(self) -> tuple[str, ...]:
        """Every unit, parents before children, siblings by code."""
        out: list[str] = []
        stack = [self.root]
        while stack:
            k = stack.pop()
            out.append(k)
            stack.extend(reversed(self.children.get(k, ())))
        return tuple(out)

    def page_units(self) -> tuple[str, ...]:
        """Units that get a page (every real unit and the root)."""
        return tuple(k for k in self.order if not self.units[k].is_self)

    def page(self, key: str) -> str:
        """Docs-relative Markdown path of ``key``'s page."""
        return "index.md" if key == self.root else f"units/{self.slugs[key]}.md"

    def chart(self, key: str) -> str:
        return "charts/index.svg" if key == self.root else f"charts/{self.slugs[key]}.svg"

    def ancestors(self, key: str) -> list[str]:
        """From the root down to ``key``'s parent."""
        out: list[str] = []
        p = self.units[key].parent
        while p is not None:
            out.append(p)
            p = self.units[p].parent
        return out[::-1]

    def short_name(self, key: str) -> str:
        """The name without the parent's name in front (会泽县金钟镇 → 金钟镇)."""
        u = self.units[key]
        parent = self.units[u.parent].name if u.parent is not None else ""
        if parent and u.name.startswith(parent) and len(u.name) > len(parent):
            return u.name[len(parent):]
        return u.name

    def with_self_units(self, direct: Iterable[str]) -> UnitTree:
        """The tree plus a "本级" child under every non-leaf unit in ``direct``."""
        units = dict(self.units)
        children = dict(self.children)
        for key in sorted(set(direct)):
            if key in units and children.get(key) and not units[key].is_self:
                u = units[key]
                s = Unit(key + SELF, u.code, f"{u.name}(本级)", "self", key, u.depth + 1)
                units[s.key] = s
                children[key] = (*children[key], s.key)
        return replace(self, units=units, children=children)


def load_units(conn: sqlite3.Connection, site_name: str) -> UnitTree:
    """Read ``units`` and arrange it as a tree (one synthetic root when there are several tops)."""
    rows = conn.execute("SELECT id, code, name, level, parent_id FROM units ORDER BY code, id").fetchall()
    ids = {str(r[0]) for r in rows}
    kids: dict[str | None, list[tuple[str, str, str, str]]] = {}
    for uid, code, name, level, parent in rows:
        p = str(parent) if parent is not None and str(parent) in ids else None
        kids.setdefault(p, []).append((str(uid), str(code), str(name), str(level)))
    tops = kids.get(None, [])
    units: dict[str, Unit] = {}
    children: dict[str, tuple[str, ...]] = {}
    start: list[tuple[tuple[str, str, str, str], str | None, int]]
    if len(tops) == 1:
        root = tops[0][0]
        start = [(tops[0], None, 0)]
    else:
        root = ALL
        units[ALL] = Unit(ALL, "", site_name, "all", None, 0)
        children[ALL] = tuple(t[0] for t in tops)
        start = [(t, ALL, 1) for t in tops]
    stack = list(reversed(start))
    while stack:
        (uid, code, name, level), parent, depth = stack.pop()
        units[uid] = Unit(uid, code, name, level, parent, depth)
        mine = kids.get(uid, [])
        if mine:
            children[uid] = tuple(m[0] for m in mine)
        stack.extend((m, uid, depth + 1) for m in reversed(mine))
    if len(units) - (1 if root == ALL else 0) != len(rows):
        raise ReportError("the unit hierarchy has a cycle: some units are not under any top unit")
    slugs: dict[str, str] = {}
    seen: set[str] = set()
    for k in sorted(units, key=lambda k: (units[k].code, k)):
        code = units[k].code
        slug = code if _SLUG.match(code) and code not in seen else f"id-{k}"
        seen.add(slug)
        slugs[k] = slug
    return UnitTree(root, units, children, slugs)
