"""Migrations build both databases from the registry, never change once shipped, and refuse bad rows."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import apsw
import pytest

from schema import SCHEMA_VERSION
from schema.errors import InvalidValue, MigrationError, UnknownColumn
from schema.migrations import current_version, migrate, migration_sql
from schema.tables import tables_for
from schema.validate import constraint_from_message, validate_row
from tests.conftest import uid

# SHA-256 of each shipped migration's SQL. A shipped migration never changes: add a new one instead.
SHIPPED = {
    ("central", 1): "8195bc5389c7f66b0f4ff18f18ee3c6559d65775318694c3f5a32eda4b3fcc4c",
    ("tablet", 1): "8662a74ce36bb6827bbb41351ad330c6ab41e3c68b5e0df2df1ae37ab13e0652",
    # 2: indexes and trigger-kept summary tables for the auditors' canned queries, central only (tablets:
    # nothing but the version)
    ("central", 2): "6dec0497ee068fd041973fb1bfcffb8caffe3bc6d4a21ec74380c0755eccc699",
    ("tablet", 2): "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    # 3: the (unit, birth month, birth date) expression index for must_visit_overdue, central only
    ("central", 3): "9da4200cff289bbe49f2c62433fa3eec04457b6c09f5e53e1696caf0b457b54b",
    ("tablet", 3): "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    # 4: party groups; party_members.relation (formal / dual) and group_id; the one-row-per-retiree
    # UNIQUE index replaced by one formal row per retiree and one row per (retiree, branch), both kinds;
    # the three-musts notices (三必须事项) and three_musts.notice_id; central: the coverage indexes
    ("central", 4): "79a0344812f976535939b6c2554db5d252cf008aaadc783c6fc3edf711045473",
    ("tablet", 4): "cb93e5e080e10a396b9830ca8224aaf7c36fbc30b8b9449ab8e9821f4e95ed97",
}


@pytest.mark.parametrize(("kind", "version"), sorted(SHIPPED))
def test_shipped_migrations_never_change(kind: str, version: int) -> None:
    sql = "\n".join(migration_sql(kind, version))  # type: ignore[arg-type]
    assert hashlib.sha256(sql.encode()).hexdigest() == SHIPPED[(kind, version)]


def test_every_version_is_pinned() -> None:
    assert {v for _, v in SHIPPED} == set(range(1, SCHEMA_VERSION + 1))


@pytest.mark.parametrize("kind", ["central", "tablet"])
def test_both_databases_from_the_same_definitions(kind: str, tmp_path: Path) -> None:
    conn = apsw.Connection(str(tmp_path / "x.db"))
    assert migrate(conn, kind) == SCHEMA_VERSION  # type: ignore[arg-type]
    assert current_version(conn) == SCHEMA_VERSION
    assert migrate(conn, kind) == 0  # type: ignore[arg-type]
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    expected = {t.name for t in tables_for(kind)}  # type: ignore[arg-type]
    assert expected <= names
    for t in tables_for(kind):  # type: ignore[arg-type]
        cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{t.name}")')]
        assert cols == list(t.column_names()), t.name


def _indexes(conn: apsw.Connection) -> set[tuple[str, str]]:
    return {(str(r[0]), str(r[1])) for r in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}


@pytest.mark.parametrize("kind", ["central", "tablet"])
def test_indexes_added_later_reach_old_databases(kind: str) -> None:
    """A database made at version 1 and migrated has exactly the indexes of one made at the latest version,
    and those the registry says it has at that version."""
    from schema.ddl import index_sql

    old = apsw.Connection(":memory:")
    migrate(old, kind, target=1)  # type: ignore[arg-type]
    assert migrate(old, kind) == SCHEMA_VERSION - 1  # type: ignore[arg-type]
    new = apsw.Connection(":memory:")
    migrate(new, kind)  # type: ignore[arg-type]
    assert _indexes(old) == _indexes(new)
    want = {s for t in tables_for(kind)  # type: ignore[arg-type]
            for s in index_sql(t, [ix for ix in t.indexes if ix.present(kind, SCHEMA_VERSION)])}
    assert {sql for _, sql in _indexes(new)} == want


def test_audit_indexes_are_central_only() -> None:
    """Migration 2 adds the auditors' indexes and summaries to the central database and leaves tablets as
    they were."""
    assert migration_sql("tablet", 2) == []
    central = migration_sql("central", 2)
    starts = ("CREATE INDEX", "CREATE UNIQUE INDEX", "DROP INDEX IF EXISTS", "CREATE TABLE", "CREATE TRIGGER",
              "INSERT INTO")
    assert central and all(s.startswith(starts) for s in central)
    conn = apsw.Connection(":memory:")
    migrate(conn, "central")
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_service_orders_requested_on_id_unit_id" in names and "ix_retirees_caseworker_id" not in names
    tablet = apsw.Connection(":memory:")
    migrate(tablet, "tablet")
    names = {r[0] for r in tablet.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_retirees_caseworker_id" in names and "ix_service_orders_requested_on_id_unit_id" not in names


def test_expression_index_for_birthdays() -> None:
    """Migration 3 adds one central-only index whose key is an expression (the birth month), and SQLite uses
    it for a unit's birthdays in a month when the query spells the expression the same way."""
    assert migration_sql("tablet", 3) == []
    assert migration_sql("central", 3) == ['CREATE INDEX "ix_retirees_unit_id_birth_month_birth_date" ON "retirees"'
                                           ' ("unit_id", substr(birth_date, 6, 2), "birth_date")']
    conn = apsw.Connection(":memory:")
    migrate(conn, "central")
    plan = " ".join(str(r[3]) for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM retirees WHERE unit_id = 'u' AND substr(birth_date, 6, 2) = '10'"
        " AND birth_date < '1947-01-01'"))
    assert "ix_retirees_unit_id_birth_month_birth_date (unit_id=? AND <expr>=? AND birth_date<?)" in plan


def test_synced_tables_identical_on_both_sides(tmp_path: Path) -> None:
    c = apsw.Connection(":memory:")
    migrate(c, "central")
    t = apsw.Connection(":memory:")
    migrate(t, "tablet")
    shared = {x.name for x in tables_for("central")} & {x.name for x in tables_for("tablet")}
    assert "retirees" in shared and "outbox" not in shared and "ledger" not in shared
    for name in shared:
        assert list(c.execute(f'PRAGMA table_info("{name}")')) == list(t.execute(f'PRAGMA table_info("{name}")'))


def test_newer_database_is_refused() -> None:
    conn = apsw.Connection(":memory:")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(MigrationError):
        migrate(conn, "central")


def test_stdlib_sqlite3_works_too() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    assert migrate(conn, "tablet") == SCHEMA_VERSION


def _retiree(**over: object) -> dict[str, object]:
    row: dict[str, object] = {"id": uid(50), "unit_id": uid(2), "name": "李明", "sex": "male",
                              "birth_date": "1936-05-01", "id_number": "530326193605011234", "category": "lixiu"}
    row.update(over)
    return row


def test_check_constraints_name_table_and_column() -> None:
    conn = apsw.Connection(":memory:")
    migrate(conn, "tablet")
    bad = _retiree(category="retired")
    with pytest.raises(apsw.ConstraintError) as e:
        conn.execute(f"INSERT INTO retirees ({', '.join(bad)}) VALUES ({', '.join('?' * len(bad))})",
                     tuple(bad.values()))
    assert constraint_from_message(str(e.value)) == ("retirees", "category")


@pytest.mark.parametrize(("column", "value"), [
    ("category", "retired"), ("birth_date", "1936-02-30"), ("sex", None), ("id", "NOT-A-UUID"),
    ("living_alone", 2), ("name", ""),
])
def test_validate_row_names_table_column_value(column: str, value: object) -> None:
    with pytest.raises(InvalidValue) as e:
        validate_row("retirees", _retiree(**{column: value}))
    assert (e.value.table, e.value.column, e.value.value) == ("retirees", column, value)
    assert "retirees" in str(e.value) and column in str(e.value)


def test_validate_row_accepts_good_and_unknown_column_refused() -> None:
    validate_row("retirees", _retiree())
    with pytest.raises(UnknownColumn):
        validate_row("retirees", _retiree(shoe_size=42))


def test_sqlite_refuses_what_validate_refuses() -> None:
    conn = apsw.Connection(":memory:")
    migrate(conn, "tablet")
    for column, value in [("birth_date", "1936-02-30"), ("living_alone", 2), ("id", "NOT-A-UUID")]:
        row = _retiree(**{column: value})
        with pytest.raises(apsw.ConstraintError):
            conn.execute(f"INSERT INTO retirees ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         tuple(row.values()))
    assert conn.execute("SELECT count(*) FROM retirees").fetchone() == (0,)
