"""SQL fragments the canned queries share, generated from the registry.

* ``scope_cte()`` — ``scope(id)``: the unit with code ``:unit`` and every unit below it (all units
  when ``:unit`` is empty).
* ``period_cte()`` — ``period(today, m0, m1)``: today from the injected clock, and the first and last
  day of month ``:month`` (``YYYY-MM``; empty means the current month).
* ``label(enum, expr)`` — the Chinese label of an enumeration code; ``table_label(expr)`` likewise
  for a table name.
* :class:`Ident` — how a retiree or a staff member is shown: by name and phone to a ``senior``, by
  masked name and age band to an ``auditor``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from schema.model import Enum
from schema.tables import TABLES
from server.audit.masking import age_band, mask_name
from server.audit.names import TODAY_FN

Role = Literal["auditor", "senior"]
ROLES: tuple[Role, ...] = ("auditor", "senior")

UNIT_PARAM = "unit"
MONTH_PARAM = "month"
UNIT_AND_MONTH = (UNIT_PARAM, MONTH_PARAM)
"""The parameters of a query over one month of a unit and the units below it."""
PARAM_HELP = MappingProxyType({
    UNIT_PARAM: "单位代码(含下级单位;留空为全部)unit code, with the units below it; empty for all",
    MONTH_PARAM: "月份 YYYY-MM(留空为本月)month; empty for the current month",
    "tbl": "表名,如 retirees (table name)",
    "row_id": "行编号 (row id)",
    "notice": "三必须事项编号 (notice id, from 三必须事项送达情况)",
})


def lit(text: str) -> str:
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def label(enum: Enum, expr: str) -> str:
    """SQL: the Chinese label of the code in ``expr`` (the code itself if unknown)."""
    whens = " ".join(f"WHEN {lit(v.code)} THEN {lit(v.zh)}" for v in enum.values)
    return f"(CASE {expr} {whens} ELSE {expr} END)"


def table_label(expr: str) -> str:
    """SQL: the Chinese title of the table named in ``expr``."""
    whens = " ".join(f"WHEN {lit(t.name)} THEN {lit(t.zh)}" for t in TABLES)
    return f"(CASE {expr} {whens} ELSE {expr} END)"


def scope_cte() -> str:
    return (
        "scope(id) AS (\n"
        f"  SELECT id FROM units WHERE CASE WHEN coalesce(:{UNIT_PARAM}, '') = '' THEN parent_id IS NULL"
        f" ELSE code = :{UNIT_PARAM} END\n"
        "  UNION SELECT u.id FROM units u JOIN scope s ON u.parent_id = s.id\n)"
    )


def period_cte(*, month: bool = True) -> str:
    today = f"{TODAY_FN}()"
    if not month:
        return f"period(today) AS MATERIALIZED (SELECT {today})"
    m0 = f"date(coalesce(nullif(:{MONTH_PARAM}, ''), strftime('%Y-%m', {today})) || '-01')"
    return (
        "period(today, m0, m1) AS MATERIALIZED (\n"
        f"  SELECT t, m, date(m, '+1 month', '-1 day') FROM (SELECT {today} AS t, {m0} AS m)\n)"
    )


def with_clause(*, month: bool = True, extra: tuple[str, ...] = ()) -> str:
    """``WITH RECURSIVE scope ..., period ...[, extra ...]``."""
    return "WITH RECURSIVE " + ",\n".join((scope_cte(), period_cte(month=month), *extra)) + "\n"


def in_scope(expr: str) -> str:
    return f"{expr} IN (SELECT id FROM scope)"


def unit_in_scope(expr: str) -> str:
    """Like :func:`in_scope`, but never used to look rows up (the unary ``+``): for queries that walk
    ``units`` in code order, so that SQLite can stream rows in ``ORDER BY u.code, ...`` order and stop
    at Datasette's row limit instead of evaluating and sorting the whole province first. With no unit
    chosen every unit is in scope, and the test is skipped rather than looked up per row."""
    return f"(coalesce(:{UNIT_PARAM}, '') = '' OR +{expr} IN (SELECT id FROM scope))"


@dataclass(frozen=True)
class Ident:
    """How people appear in a query's result, by role."""

    role: Role

    def retiree(self, a: str) -> str:
        if self.role == "senior":
            return f'{a}.id AS "编号", {a}.name AS "姓名", {a}.phone AS "联系电话"'
        return f'{a}.id AS "编号", {mask_name(f"{a}.name")} AS "姓名(脱敏)", {age_band(f"{a}.birth_date")} AS "年龄段"'

    def retiree_order(self, a: str) -> str:
        return f"{a}.name, {a}.id" if self.role == "senior" else f"{a}.id"

    def retiree_order_columns(self) -> str:
        """:meth:`retiree_order` by output column names, for a compound query's ``ORDER BY``."""
        return '"姓名", "编号"' if self.role == "senior" else '"编号"'

    def staff(self, a: str, title: str = "工作人员") -> str:
        if self.role == "senior":
            return f'{a}.id AS "{title}编号", {a}.name AS "{title}"'
        return f'{a}.id AS "{title}编号", {mask_name(f"{a}.name")} AS "{title}(脱敏)"'


@dataclass(frozen=True)
class CannedQuery:
    name: str
    title: str
    description: str
    sql: str
    params: tuple[str, ...]

    def metadata(self) -> dict[str, Any]:
        """The Datasette ``queries`` entry (read-only: never ``write``)."""
        help_ = "; ".join(f":{p} = {PARAM_HELP[p]}" for p in self.params)
        desc = self.description + (f"\n参数 parameters: {help_}" if help_ else "")
        return {"title": self.title, "description": desc, "sql": self.sql, "params": list(self.params)}
