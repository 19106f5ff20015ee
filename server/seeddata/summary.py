"""The summary table printed after generating data (and reused by the demo).

Labels come from the registry (table and enum labels, Chinese with English beside). Each entry is
``("<section zh> <section en> · <item zh> <item en>", count)``; :func:`format_summary` groups by section.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

from schema.domain_tables import DOMAIN_TABLES
from schema.enums import CATEGORY, UNIT_LEVEL
from schema.tables import table

SEP = " · "
DEFAULT_AS_OF = date(2026, 10, 31)

_SPECIAL_LISTS: tuple[tuple[str, str, str], ...] = (
    ("独居", "living alone", "living_alone = 1"),
    ("丧偶", "widowed", "marital_status = 'widowed'"),
    ("患病", "ill", "health_status <> 'good'"),
    ("高龄≥80", "aged 80+", "birth_date <= :old"),
    ("失能", "disabled", "disabled = 1"),
    ("失独", "lost only child", "lost_only_child = 1"),
    ("空巢", "empty nest", "empty_nest = 1"),
    ("经济困难", "financial hardship", "financial_hardship = 1"),
    ("长期卧床", "bedridden", "health_status = 'bedridden'"),
    ("正在住院", "in hospital now", "hospitalised = 1"),
)


def _one(conn: Any, sql: str, params: dict[str, object] | tuple[object, ...] = ()) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0] or 0) if row else 0


def _as_of(conn: Any) -> date:
    latest = conn.execute("SELECT max(contacted_on) FROM contacts").fetchone()[0]
    return date.fromisoformat(latest) if latest else DEFAULT_AS_OF


def summarise(conn: Any, as_of: date | None = None) -> list[tuple[str, int]]:
    """Counts for the summary table, from any central connection (apsw or sqlite3).

    ``as_of`` (for 高龄≥80) defaults to the latest contact date in the data.
    """
    day = as_of or _as_of(conn)
    out: list[tuple[str, int]] = []
    rows_head = "行数 rows"
    for t in DOMAIN_TABLES:
        out.append((f"{rows_head}{SEP}{t.zh} {t.en}", _one(conn, f'SELECT count(*) FROM "{t.name}"')))
    cat = f"{CATEGORY.zh} {CATEGORY.en}"
    for v in CATEGORY.values:
        out.append((f"{cat}{SEP}{v.zh} {v.en}",
                    _one(conn, "SELECT count(*) FROM retirees WHERE category = ?", (v.code,))))
    lvl = f"{UNIT_LEVEL.zh} {UNIT_LEVEL.en}"
    for v in UNIT_LEVEL.values:
        out.append((f"{lvl}{SEP}{v.zh} {v.en}", _one(conn, "SELECT count(*) FROM units WHERE level = ?", (v.code,))))
    org = "组织与队伍 organisation and staff"
    for name in ("party_branches", "party_groups", "party_members", "venues", "staff"):
        t = table(name)
        # a member managed by a special branch too (双重管理) has two rows and is one person
        what = "DISTINCT retiree_id" if name == "party_members" else "*"
        out.append((f"{org}{SEP}{t.zh} {t.en}", _one(conn, f'SELECT count({what}) FROM "{name}"')))
    out.append((f"{org}{SEP}双重管理党员 members under dual management",
                _one(conn, "SELECT count(DISTINCT retiree_id) FROM party_members WHERE relation = 'dual'")))
    serving = _one(conn, "SELECT count(*) FROM staff WHERE role <> 'supervisor' AND active = 1")
    retirees = _one(conn, "SELECT count(*) FROM retirees WHERE deceased_on IS NULL")
    out.append((f"{org}{SEP}人均服务人数 retirees per serving staff member", round(retirees / serving) if serving else 0))
    lists = "重点名单(在世) special lists (living)"
    old = date(day.year - 80, day.month, 28 if (day.month, day.day) == (2, 29) else day.day).isoformat()
    for zh, en, where in _SPECIAL_LISTS:
        sql = f"SELECT count(*) FROM retirees WHERE deceased_on IS NULL AND {where}"
        out.append((f"{lists}{SEP}{zh} {en}", _one(conn, sql, {"old": old} if ":old" in where else ())))
    return out


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def format_summary(entries: list[tuple[str, int]], *, seconds: float | None = None,
                   rows_per_second: float | None = None, extra: Sequence[tuple[str, float]] = ()) -> str:
    """A plain-text table, one section per heading; optional timing lines (and ``extra``) at the end."""
    lines: list[str] = []
    items: list[tuple[list[str], float]] = [
        (label.split(SEP, 1) if SEP in label else ["", label], n) for label, n in entries]
    if seconds is not None:
        items.append((["耗时 timing", "秒 seconds"], round(seconds, 1)))
    if rows_per_second is not None:
        items.append((["耗时 timing", "行/秒 rows per second"], int(rows_per_second)))
    items.extend((["耗时 timing", label], value) for label, value in extra)
    width = max((_width(parts[-1]) for parts, _ in items), default=10) + 2
    section = None
    for parts, n in items:
        head = parts[0] if len(parts) == 2 else ""
        if head != section:
            section = head
            lines.append(head)
        label = parts[-1]
        value = f"{n:,.1f}" if isinstance(n, float) else f"{n:,}"
        lines.append(f"  {label}{' ' * (width - _width(label))}{value:>12}")
    return "\n".join(lines)
