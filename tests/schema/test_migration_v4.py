"""Version 4 (the three-musts notices) reaches databases made at version 3 with their rows intact."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from schema import SCHEMA_VERSION
from schema.migrations import current_version, migrate
from tests.conftest import uid

_MUST = ("INSERT INTO three_musts (id, unit_id, retiree_id, staff_id, kind, item, delivered_on, method)"
         " VALUES (?, ?, ?, NULL, 'document', '《老年人权益保障法》宣传资料', '2026-03-02', 'in_person')")


def _filled_v3(path: Path, kind: str) -> apsw.Connection:
    conn = apsw.Connection(str(path))
    if kind == "central":
        conn.execute("PRAGMA foreign_keys = ON")
    assert migrate(conn, kind, target=3) == 3  # type: ignore[arg-type]
    conn.execute("INSERT INTO units (id, code, name, level) VALUES (?, '530326', '会泽县', 'county')", (uid(1),))
    conn.execute("INSERT INTO units (id, code, name, level, parent_id) VALUES (?, '530326101', '金钟镇', 'township', ?)",
                 (uid(2), uid(1)))
    for n in (10, 11):
        conn.execute("INSERT INTO retirees (id, unit_id, name, sex, birth_date, id_number, category)"
                     " VALUES (?, ?, ?, 'male', '1940-01-01', ?, 'general')", (uid(n), uid(2), f"王{n}", f"5303261940010100{n}"))
    conn.execute(_MUST, (uid(20), uid(2), uid(10)))
    conn.execute(_MUST, (uid(21), uid(2), uid(11)))
    return conn


@pytest.mark.parametrize("kind", ["central", "tablet"])
def test_v3_to_v4_keeps_rows_and_links_new_deliveries(kind: str, tmp_path: Path) -> None:
    conn = _filled_v3(tmp_path / "v3.db", kind)
    assert SCHEMA_VERSION == 4
    assert migrate(conn, kind) == 1  # type: ignore[arg-type]
    assert current_version(conn) == 4
    # the old deliveries are all there, unlinked, their free-text item unchanged
    assert conn.execute("SELECT id, item, delivered_on, notice_id FROM three_musts ORDER BY id").fetchall() == [
        (uid(20), "《老年人权益保障法》宣传资料", "2026-03-02", None),
        (uid(21), "《老年人权益保障法》宣传资料", "2026-03-02", None)]
    assert conn.execute("SELECT count(*) FROM retirees").fetchone() == (2,)
    # a notice of the county, and a new delivery in the township recorded against it
    conn.execute("INSERT INTO notices (id, unit_id, kind, title, issued_on, due_by, for_category)"
                 " VALUES (?, ?, 'document', '市委老干部局2026年工作要点', '2026-03-01', '2026-03-31', 'county_level')",
                 (uid(30), uid(1)))
    conn.execute("UPDATE three_musts SET notice_id = ? WHERE id = ?", (uid(30), uid(21)))
    assert conn.execute("SELECT t.id, n.title FROM three_musts t JOIN notices n ON n.id = t.notice_id").fetchall() == [
        (uid(21), "市委老干部局2026年工作要点")]
    with pytest.raises(apsw.ConstraintError):  # the kind is the three musts' enumeration
        conn.execute("INSERT INTO notices (id, unit_id, kind, title, issued_on, due_by)"
                     " VALUES (?, ?, 'visit', 't', '2026-03-01', '2026-03-31')", (uid(31), uid(1)))


def test_central_refuses_a_delivery_of_an_unknown_notice(tmp_path: Path) -> None:
    conn = _filled_v3(tmp_path / "c.db", "central")
    migrate(conn, "central")
    with pytest.raises(apsw.ConstraintError):
        conn.execute("UPDATE three_musts SET notice_id = ? WHERE id = ?", (uid(99), uid(20)))
    assert conn.execute("SELECT count(*) FROM three_musts WHERE notice_id IS NOT NULL").fetchone() == (0,)


def test_coverage_index_is_central_only(tmp_path: Path) -> None:
    names = {}
    for kind in ("central", "tablet"):
        conn = apsw.Connection(":memory:")
        migrate(conn, kind)  # type: ignore[arg-type]
        names[kind] = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_three_musts_notice_id_retiree_id_delivered_on" in names["central"] - names["tablet"]
    assert "ix_notices_due_by_unit_id" in names["central"] - names["tablet"]
    assert "ix_retirees_unit_id_category_deceased_on_id" in names["central"] - names["tablet"]
    assert "ix_notices_unit_id_due_by" in names["central"] & names["tablet"]
