"""The masked views, the permission table and the metadata, checked against the registry."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from datasette.app import Datasette
from datasette.database import Database
from datasette.plugins import pm

from schema.audit_tables import AUDIT_LOG_TABLES, AUDIT_TABLES
from schema.tables import tables_for
from server.audit.app import AuditApp
from server.audit.masking import CREDENTIAL_COLUMNS, age_band, build_masked_db, mask_name, masked_views
from server.audit.metadata import build_metadata
from server.audit.names import ROLE_KEY, TODAY_FN
from server.audit.policy import Policy
from server.audit.queries import canned_queries, query_names


def test_no_masked_view_has_a_personal_column() -> None:
    views = {v.table.name: v for v in masked_views()}
    assert set(views) == {t.name for t in tables_for("central")} - {t.name for t in AUDIT_TABLES}
    for v in views.values():
        shown = {m.source.name: m for m in v.columns}
        for c in v.table.columns:
            if c.name in CREDENTIAL_COLUMNS:
                assert c.name not in shown
            elif c.kind == "blob":
                assert shown[c.name].name == f"{c.name}_bytes"
            elif not c.personal:
                assert shown[c.name].name == c.name and shown[c.name].expr == f'"{c.name}"'
            elif c.name == "name":
                assert shown[c.name].name == "name_masked"
            elif c.name == "birth_date":
                assert shown[c.name].name == "age_band"
            else:
                assert c.name not in shown, (v.name, c.name)
        names = [m.name for m in v.columns]
        assert len(names) == len(set(names))
        assert not set(names) & set(v.table.personal_columns())


def _eval(expr: str, today: str, value: str | None) -> object:
    conn = sqlite3.connect(":memory:")
    conn.create_function(TODAY_FN, 0, lambda: today, deterministic=True)
    row = conn.execute(f"SELECT {expr}", {"x": value}).fetchone()
    conn.close()
    return row[0]


@pytest.mark.parametrize(("birth", "band"), [
    ("1936-11-20", "90+"), ("1936-11-21", "85-89"), ("1920-01-01", "90+"), ("1941-11-20", "85-89"),
    ("1941-11-21", "80-84"), ("1967-05-05", "55-59"), (None, None),
])
def test_age_band(birth: str | None, band: str | None) -> None:
    assert _eval(age_band(":x"), "2026-11-20", birth) == band


@pytest.mark.parametrize(("name", "masked"), [("王建国", "王**"), ("欧阳明", "欧**"), ("李明", "李**"), (None, None)])
def test_mask_name(name: str | None, masked: str | None) -> None:
    assert _eval(mask_name(":x"), "2026-11-20", name) == masked


def test_masked_db_holds_definitions_only(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    build_masked_db(path)
    build_masked_db(path)  # rebuilt in place at every start
    conn = sqlite3.connect(path)
    kinds = {r[0] for r in conn.execute("SELECT type FROM sqlite_master")}
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert kinds == {"view"} and names == {v.name for v in masked_views()}


POLICY = Policy(frozenset({"retirees_masked"}), frozenset({"not_contacted"}))
AUDITOR = {"id": "a", ROLE_KEY: "auditor"}
SENIOR = {"id": "s", ROLE_KEY: "senior"}


@pytest.mark.parametrize(("actor", "action", "resource", "allowed"), [
    (None, "view-instance", None, False),
    ({"id": "root"}, "view-instance", None, False),
    ({"id": "x", ROLE_KEY: "admin"}, "view-instance", None, False),
    (AUDITOR, "view-instance", None, True),
    (AUDITOR, "view-database", "masked", True),
    (AUDITOR, "view-database", "central", False),
    (AUDITOR, "view-database", "access_log", False),
    (AUDITOR, "view-database", "_internal", False),
    (AUDITOR, "view-table", ("masked", "retirees_masked"), True),
    (AUDITOR, "view-table", ("masked", "retirees"), False),
    (AUDITOR, "view-table", ("central", "retirees"), False),
    (AUDITOR, "view-table", ("central", "units"), False),
    (AUDITOR, "view-query", ("masked", "not_contacted"), True),
    (AUDITOR, "view-query", ("central", "not_contacted"), False),
    (AUDITOR, "view-query", ("masked", "other"), False),
    (AUDITOR, "execute-sql", "masked", False),
    (AUDITOR, "view-database-download", "masked", False),
    (AUDITOR, "permissions-debug", None, False),
    (AUDITOR, "debug-menu", None, False),
    (AUDITOR, "insert-row", ("masked", "retirees_masked"), False),
    (SENIOR, "view-database", "central", True),
    (SENIOR, "view-table", ("central", "retirees"), True),
    (SENIOR, "view-table", ("access_log", "audit_access_log"), True),
    (SENIOR, "execute-sql", "central", True),
    (SENIOR, "execute-sql", "_internal", False),
    (SENIOR, "view-database", "_memory", False),
    (SENIOR, "view-database-download", "central", False),
    (SENIOR, "permissions-debug", None, False),
    (SENIOR, "insert-row", ("central", "retirees"), False),
])
def test_policy(actor: dict[str, str] | None, action: str, resource: object, allowed: bool) -> None:
    assert POLICY.allows(actor, action, resource) is allowed


def test_metadata_labels_every_table_column_and_enum_value() -> None:
    meta = build_metadata()
    central = meta["databases"]["central"]["tables"]
    for t in tables_for("central"):
        assert t.zh in central[t.name]["title"] and central[t.name]["description"]
        for c in t.columns:
            desc = central[t.name]["columns"][c.name]
            assert c.zh in desc
            for ev in c.enum.values if c.enum else ():
                assert f"{ev.code}={ev.zh}" in desc
            assert ("personal data" in desc) == c.personal
    masked = meta["databases"]["masked"]["tables"]
    for v in masked_views():
        assert "脱敏" in masked[v.name]["title"]
        assert set(masked[v.name]["columns"]) == {m.name for m in v.columns}
    log = meta["databases"]["access_log"]["tables"]
    assert set(log) == {t.name for t in AUDIT_LOG_TABLES}
    assert set(meta["databases"]["masked"]["queries"]) == query_names()
    assert set(meta["databases"]["central"]["queries"]) == {q.name for q in canned_queries("senior")}


def test_our_hooks_leave_other_datasettes_alone(app: AuditApp) -> None:
    other = Datasette(memory=True)

    async def go() -> int:
        r = await other.client.get("/_memory.json?sql=select+1")
        return int(r.status_code)

    assert asyncio.run(go()) == 200  # anonymous, SQL allowed: none of our rules apply to it
    name = app.plugin.__name__
    app.close()
    assert pm.get_plugin(name) is None


def test_metadata_alone_keeps_the_doors_shut(tmp_path: Path) -> None:
    """Defence in depth: with our plugin absent, Datasette's own checks of the metadata still refuse."""
    central, masked = tmp_path / "central.db", tmp_path / "masked.db"
    for p in (central, masked):
        sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.close()
    ds = Datasette(files=[], metadata=build_metadata(), settings={"default_allow_sql": False})
    ds.remove_database("_memory")
    ds.add_database(Database(ds, path=str(central), is_mutable=True), name="central", route="central")
    ds.add_database(Database(ds, path=str(masked), is_mutable=True), name="masked", route="masked")

    def cookie(role: str) -> dict[str, str]:
        return {"ds_actor": ds.sign({"a": {"id": "x", ROLE_KEY: role}}, "actor")}

    async def go() -> list[int]:
        c = ds.client
        return [int((await c.get(p, cookies=k)).status_code) for p, k in (
            ("/", {}), ("/masked", cookie("auditor")), ("/central", cookie("auditor")),
            ("/masked?sql=select+1", cookie("auditor")), ("/central?sql=select+1", cookie("senior")))]

    assert asyncio.run(go()) == [403, 200, 403, 403, 200]


def test_prepare_connection_sets_today_and_read_only(app: AuditApp) -> None:
    async def go() -> list[object]:
        db = app.datasette.get_database("masked")
        today = (await db.execute(f"select {TODAY_FN}()")).rows[0][0]
        only = (await db.execute("pragma query_only")).rows[0][0]
        attached = [r[1] for r in (await db.execute("pragma database_list")).rows]
        return [today, only, attached]

    today, only, attached = asyncio.run(go())
    assert today == date(2026, 11, 20).isoformat() and only == 1
    assert attached == ["main", "temp", "central"]
