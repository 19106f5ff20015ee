"""SQL DDL generated from the registry, for one database kind at one schema version."""

from __future__ import annotations

from collections.abc import Iterable

from schema.model import Column, Index, Table
from schema.tables import DbKind

_AUTOINCREMENT = {"ledger", "uploads", "change_log", "ledger_checkpoints", "quarantine", "conflicts"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_HEX = "[0-9a-f]"
_UUID_GLOB = "-".join(_HEX * n for n in (8, 4, 4, 4, 12))


def _checks(c: Column, kind: DbKind) -> list[str]:
    n = _q(c.name)
    out: list[str] = []
    if c.enum is not None:
        codes = ", ".join("'" + v + "'" for v in c.enum.codes())
        out.append(f"{n} IN ({codes})")
    if c.kind == "bool":
        out.append(f"{n} IN (0, 1)")
    if c.kind == "uuid" and not (c.references and kind == "central"):  # a foreign key already checks it
        out.append(f"{n} GLOB '{_UUID_GLOB}'")
    if c.kind == "date":
        out.append(f"{n} IS date({n})")
    if c.kind == "datetime":
        out.append(f"{n} IS NULL OR datetime({n}) IS NOT NULL")
    if c.kind == "json":
        out.append(f"json_valid({n})")
    if c.min_value is not None:
        out.append(f"{n} >= {c.min_value}")
    if c.max_value is not None:
        out.append(f"{n} <= {c.max_value}")
    if c.kind == "text" and c.required:
        out.append(f"length({n}) > 0")
    return out


def column_sql(t: Table, c: Column, kind: DbKind, *, for_alter: bool = False) -> str:
    parts = [_q(c.name), c.sql_type]
    if c.name == t.pk:
        parts.append("PRIMARY KEY")
        if c.sql_type == "INTEGER" and t.name in _AUTOINCREMENT and kind == "central":
            parts.append("AUTOINCREMENT")
    if c.required:
        parts.append("NOT NULL")
    if c.default is not None:
        parts.append(f"DEFAULT {c.default}")
    if c.unique and not for_alter:
        parts.append("UNIQUE")
    for i, check in enumerate(_checks(c, kind)):
        parts.append(f"CONSTRAINT {_q(f'{t.name}.{c.name}#{i}')} CHECK ({check})")
    if c.references and kind == "central":
        parts.append(f"REFERENCES {_q(c.references)}(id)")
    return " ".join(parts)


def create_table_sql(t: Table, kind: DbKind, version: int) -> str:
    cols = [column_sql(t, c, kind) for c in t.columns if c.added_in <= version]
    body = ",\n  ".join(cols)
    return f"CREATE TABLE {_q(t.name)} (\n  {body}\n) STRICT"


def index_name(t: Table, ix: Index) -> str:
    return f"ix_{t.name}_{'_'.join(ix.columns)}"


def index_sql(t: Table, indexes: Iterable[Index] | None = None) -> list[str]:
    """``CREATE INDEX`` for ``indexes`` of ``t`` (default: every index the registry lists for it, whatever
    its version and database kind; see :meth:`Index.present`)."""
    out: list[str] = []
    for ix in t.indexes if indexes is None else indexes:
        unique = "UNIQUE " if ix.unique else ""
        cols = ", ".join(ix.key_sql(_q))
        where = f" WHERE {ix.where}" if ix.where else ""
        out.append(f"CREATE {unique}INDEX {_q(index_name(t, ix))} ON {_q(t.name)} ({cols}){where}")
    return out


def drop_index_sql(t: Table, ix: Index) -> str:
    return f"DROP INDEX IF EXISTS {_q(index_name(t, ix))}"


def add_column_sql(t: Table, c: Column, kind: DbKind) -> str:
    return f"ALTER TABLE {_q(t.name)} ADD COLUMN {column_sql(t, c, kind, for_alter=True)}"


def populate_sql(t: Table) -> str:
    """``INSERT … SELECT`` filling the (empty) derived table ``t`` from the rows its triggers follow."""
    if t.derivation is None:
        raise ValueError(f"{t.name} is not a derived table")
    return f"INSERT INTO {_q(t.name)} ({', '.join(_q(c.name) for c in t.columns)}) {t.derivation.select}"


def derived_sql(t: Table) -> list[str]:
    """For a new derived table: fill it, then create its triggers (central database only)."""
    return [populate_sql(t), *(t.derivation.triggers if t.derivation else ())]
