"""A generated database is pullable: every synced row has a change_log entry, as after an import."""

from __future__ import annotations

from pathlib import Path

from schema.tables import synced_tables
from server.db import open_reader
from server.seeddata.generate import generate


def test_generated_rows_are_in_the_change_log(tmp_path: Path) -> None:
    path = tmp_path / "tiny.db"
    generate(path, "tiny", 3)
    conn = open_reader(path)
    try:
        for t in synced_tables():
            (rows,) = conn.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()
            (logged,) = conn.execute("SELECT count(*) FROM change_log WHERE tbl = ?", (t.name,)).fetchone()
            assert logged == rows, t.name
        (n,) = conn.execute("SELECT count(*) FROM retirees").fetchone()
        assert n > 0
    finally:
        conn.close()
