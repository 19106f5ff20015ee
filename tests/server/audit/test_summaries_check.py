"""``laogan audit check-summaries``: reports a drifted summary, and ``--repair`` makes it exact."""

from __future__ import annotations

import random
from pathlib import Path

import apsw
from click.testing import CliRunner

from schema.migrations import migrate
from server.audit.summaries import check
from server.cli import main
from tests.schema.test_summaries import World


def _run(*args: str) -> tuple[int, str]:
    got = CliRunner().invoke(main, ["audit", "check-summaries", *args])
    return got.exit_code, got.output


def test_check_and_repair(tmp_path: Path) -> None:
    db = tmp_path / "central.db"
    conn = apsw.Connection(str(db))
    migrate(conn, "central")
    with conn:
        World(conn, random.Random(3)).seed()
    assert _run("--db", str(db)) == (0, "汇总表一致 (summaries exact)\n")
    conn.execute("UPDATE unit_birth_years SET living = living + 2 WHERE rowid = (SELECT min(rowid) FROM unit_birth_years)")
    conn.close()
    assert check(db) == {"unit_birth_years": 2}
    code, out = _run("--db", str(db))
    assert code == 1 and "unit_birth_years: 2 rows differ" in out and "--repair" in out
    code, out = _run("--db", str(db), "--repair")
    assert code == 0 and "repaired" in out
    assert _run("--db", str(db))[0] == 0
