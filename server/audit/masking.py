"""The masked views an ``auditor`` browses, generated from the registry.

For every central table except credentials, one view ``<table>_masked`` with:

* every column the registry does not flag ``personal``, unchanged;
* a personal ``name`` as ``name_masked``: the surname (first character) followed by ``**``;
* a personal ``birth_date`` as ``age_band``: five-year bands (``80-84``), everything from 90 as ``90+``,
  computed against ``laogan_today()`` (the injected clock);
* every other personal column (ID numbers, phones, addresses, health, free text) left out;
* BLOB columns (ledger effects hold personal values as changesets; upload envelopes) as their size only;
* credential hashes (``secret_hash``, ``code_hash``) left out.

How the views stay live without writing to the central file: the ``masked`` database is a tiny file
(rebuilt at start by :func:`build_masked_db`) holding each view's definition with unqualified table
names — a view stored in a file can only read tables of that file, so these never run. Every Datasette
connection to it then gets :func:`install`: the central file attached read-only (``mode=ro``) and the
same views created as ``TEMP`` views. SQLite looks up unqualified names in ``temp`` first, so Datasette
(which finds the view in ``sqlite_master``) reads the temporary view, whose unqualified table names
resolve — ``temp``, ``main``, then attached — to the live central tables. ``PRAGMA query_only`` then
closes the connection to writes of any kind.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from schema.audit_tables import AUDIT_TABLES
from schema.model import Column, Table
from schema.tables import tables_for
from server.audit.names import ATTACHED_CENTRAL, TODAY_FN

SUFFIX = "_masked"
CREDENTIAL_COLUMNS = frozenset({"secret_hash", "code_hash"})
"""Hashes of secrets: not personal data, but no auditor needs them."""
EXCLUDED_TABLES = frozenset(t.name for t in AUDIT_TABLES)
"""Tables with no masked view at all (who may audit is for seniors to see)."""


def q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def mask_name(expr: str) -> str:
    """SQL: surname and two stars (``王**``) from a full name."""
    return f"(substr({expr}, 1, 1) || '**')"


def age_years(expr: str, today: str = f"{TODAY_FN}()") -> str:
    """SQL: whole years from the date ``expr`` to the date ``today`` (default ``laogan_today()``)."""
    return (f"(CAST(strftime('%Y', {today}) AS INTEGER) - CAST(strftime('%Y', {expr}) AS INTEGER)"
            f" - (strftime('%m-%d', {today}) < strftime('%m-%d', {expr})))")


def age_band(expr: str) -> str:
    """SQL: a five-year age band (``80-84``) with 90 and over as ``90+``."""
    age = age_years(expr)
    return (f"(CASE WHEN {expr} IS NULL THEN NULL WHEN {age} >= 90 THEN '90+'"
            f" ELSE printf('%d-%d', {age} / 5 * 5, {age} / 5 * 5 + 4) END)")


@dataclass(frozen=True)
class MaskedColumn:
    name: str
    expr: str
    source: Column
    note: str = ""
    """How the value was masked; empty when it is the column unchanged."""


@dataclass(frozen=True)
class MaskedView:
    table: Table
    columns: tuple[MaskedColumn, ...]

    @property
    def name(self) -> str:
        return self.table.name + SUFFIX

    def select_sql(self) -> str:
        cols = ",\n  ".join(f"{c.expr} AS {q(c.name)}" for c in self.columns)
        return f"SELECT\n  {cols}\nFROM {q(self.table.name)}"

    def create_sql(self, *, temp: bool) -> str:
        return f"CREATE {'TEMP ' if temp else ''}VIEW {q(self.name)} AS\n{self.select_sql()}"


def masked_column(c: Column) -> MaskedColumn | None:
    """What of column ``c`` an auditor sees: itself, a masked form, or nothing (None)."""
    if c.name in CREDENTIAL_COLUMNS:
        return None
    if c.kind == "blob":
        return MaskedColumn(f"{c.name}_bytes", f"length({q(c.name)})", c, "只显示字节数 size only")
    if not c.personal:
        return MaskedColumn(c.name, q(c.name), c)
    if c.name == "name" and c.kind == "text":
        return MaskedColumn("name_masked", mask_name(q(c.name)), c, "脱敏:姓氏加** (surname + **)")
    if c.name == "birth_date" and c.kind == "date":
        return MaskedColumn("age_band", age_band(q(c.name)), c, "脱敏:5岁年龄段,90岁及以上合并 (5-year band, 90+)")
    return None


def masked_views() -> tuple[MaskedView, ...]:
    """One masked view per central table (credentials excluded), in registry order."""
    out: list[MaskedView] = []
    for t in tables_for("central"):
        if t.name in EXCLUDED_TABLES:
            continue
        cols = tuple(m for m in (masked_column(c) for c in t.columns) if m is not None)
        out.append(MaskedView(t, cols))
    return tuple(out)


def masked_view(name: str) -> MaskedView:
    for v in masked_views():
        if v.name == name:
            return v
    raise KeyError(name)


def readonly_uri(path: Path) -> str:
    """A ``file:`` URI that opens ``path`` read-only (``mode=ro``: the file changes, so never immutable)."""
    return "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"


def build_masked_db(path: Path) -> None:
    """(Re)create the masked database file: the view definitions only, no data; atomic replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for v in masked_views():
            conn.execute(v.create_sql(temp=False))
        conn.execute("COMMIT")
    finally:
        conn.close()
    os.replace(tmp, path)


def install(conn: sqlite3.Connection, central: Path) -> None:
    """Make a connection to the masked database live: attach the central file read-only, create the
    temporary views; the caller then sets ``PRAGMA query_only``."""
    conn.execute(f"ATTACH DATABASE ? AS {ATTACHED_CENTRAL}", (readonly_uri(central),))
    for v in masked_views():
        conn.execute(v.create_sql(temp=True))
