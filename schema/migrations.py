"""Ordered, never-edited migrations for the central and the tablet database.

Migration ``v`` is generated from the registry filtered to what was ``added_in`` version ``v``: new
tables get ``CREATE TABLE`` (with their indexes), new columns of older tables get ``ALTER TABLE ADD
COLUMN``, indexes added to (or dropped from) older tables in version ``v`` get ``CREATE INDEX`` (``DROP
INDEX``) — see :meth:`schema.model.Index.present`; an index can be central-only. A new derived
(summary) table, central-only, is filled from the rows already there and gets its triggers. Because a registry entry is never edited once its version ships, a migration never changes;
``tests/schema/test_migrations.py`` pins each shipped migration's SQL by hash to make sure.

The database's version is ``PRAGMA user_version``. Works on apsw and stdlib sqlite3 connections alike.
"""

from __future__ import annotations

from typing import Any, Protocol

from schema import SCHEMA_VERSION
from schema.ddl import add_column_sql, create_table_sql, derived_sql, drop_index_sql, index_sql
from schema.errors import MigrationError
from schema.tables import DbKind, tables_for


class Executes(Protocol):
    def execute(self, sql: str, /) -> Any: ...


def migration_sql(kind: DbKind, version: int) -> list[str]:
    """The statements of migration ``version`` for a ``kind`` database."""
    stmts: list[str] = []
    for t in tables_for(kind):
        if t.added_in == version:
            stmts.append(create_table_sql(t, kind, version))
            stmts.extend(index_sql(t, [ix for ix in t.indexes if ix.present(kind, version)]))
            stmts.extend(derived_sql(t) if t.derivation is not None else ())
        elif t.added_in < version:
            stmts.extend(add_column_sql(t, c, kind) for c in t.columns if c.added_in == version)
            stmts.extend(drop_index_sql(t, ix) for ix in t.indexes
                         if ix.present(kind, version - 1) and not ix.present(kind, version))
            stmts.extend(index_sql(t, [ix for ix in t.indexes
                                       if ix.present(kind, version) and not ix.present(kind, version - 1)]))
    return stmts


def current_version(conn: Executes) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: Executes, kind: DbKind, target: int = SCHEMA_VERSION) -> int:
    """Bring ``conn`` up to ``target``; returns the number of migrations applied.

    Each migration runs in its own transaction together with its ``user_version`` bump, so a crash
    leaves the database at a whole version.
    """
    have = current_version(conn)
    if have > target:
        raise MigrationError(f"database is at schema version {have}, newer than this code ({target})")
    applied = 0
    for v in range(have + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in migration_sql(kind, v):
                conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {int(v)}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied += 1
    return applied
