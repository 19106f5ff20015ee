"""``python -m server.audit.summaries``: reports a drifted summary, and ``--repair`` makes it exact."""

from __future__ import annotations

import random
from pathlib import Path

import apsw

from schema.migrations import migrate
from server.audit.summaries import check, main
from tests.schema.test_summaries import World


def test_check_and_repair(tmp_path: Path) -> None:
    db = tmp_path / "central.db"
    conn = apsw.Connection(str(db))
    migrate(conn, "central")
    with conn:
        World(conn, random.Random(3)).seed()
    assert main([str(db)]) == 0
    conn.execute("UPDATE unit_birth_years SET living = living + 2 WHERE rowid = (SELECT min(rowid) FROM unit_birth_years)")
    conn.close()
    assert check(db) == {"unit_birth_years": 2}
    assert main([str(db), "--repair"]) == 1
    assert main([str(db)]) == 0
