"""A cached generated database brought up to a newer schema (server.seeddata.topup) holds what a fresh
generation gives."""

from __future__ import annotations

from pathlib import Path

import apsw

from schema import SCHEMA_VERSION
from server.seeddata import generate
from server.seeddata.topup import fill, top_up
from tests.server.test_seeddata_run import content_hash

_CLEAR_V4 = (
    "UPDATE three_musts SET notice_id = NULL",
    "DELETE FROM notices",
    "DELETE FROM change_log WHERE tbl = 'notices'",
)
"""What version 4 generated, removed (the rows a version-3 generation had, in version 4's shape)."""


def _change_log(path: Path) -> list[tuple[object, ...]]:
    conn = apsw.Connection(str(path))
    try:
        return conn.execute("SELECT tbl, row_id, unit_id FROM change_log ORDER BY tbl, row_id").fetchall()
    finally:
        conn.close()


def test_fill_gives_what_generation_gives(tmp_path: Path) -> None:
    fresh, old = tmp_path / "fresh.db", tmp_path / "old.db"
    generate(fresh, "tiny", 3)
    generate(old, "tiny", 3)
    conn = apsw.Connection(str(old))
    with conn:
        for sql in _CLEAR_V4:
            conn.execute(sql)
    assert conn.execute("SELECT count(*) FROM notices").fetchone()[0] == 0
    conn.close()
    assert content_hash(old) != content_hash(fresh)

    conn = apsw.Connection(str(old))
    fill(conn, "tiny", 3, after=3, logged=True)
    linked = conn.execute("SELECT count(*) FROM three_musts WHERE notice_id IS NOT NULL").fetchone()[0]
    conn.close()
    assert linked > 0
    assert content_hash(old) == content_hash(fresh)
    assert _change_log(old) == _change_log(fresh)


def test_top_up_of_a_current_database_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    generate(path, "tiny", 3)
    before = content_hash(path)
    conn = apsw.Connection(str(path))
    assert top_up(conn, "tiny", 3) == SCHEMA_VERSION
    conn.close()
    assert content_hash(path) == before
