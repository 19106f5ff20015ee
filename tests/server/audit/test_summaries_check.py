"""``laogan audit check-summaries``: reports a drifted summary, and ``--repair`` makes it exact."""

from __future__ import annotations

import random
from pathlib import Path

import apsw
from click.testing import CliRunner

from schema.derived import mismatches
from schema.migrations import migrate
from schema.tables import table
from server.audit.summaries import check
from server.cli import main
from server.db import open_central
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


def test_insert_or_replace_keeps_the_summaries_exact_on_server_connections(tmp_path: Path) -> None:
    """The server's connections turn on recursive_triggers, so a REPLACE fires the delete triggers."""
    conn = open_central(tmp_path / "central.db")
    with conn:
        World(conn, random.Random(5)).seed()
    cols = ", ".join(f'"{c}"' for c in table("retirees").column_names())
    n = conn.execute("SELECT count(*) FROM retirees WHERE deceased_on IS NULL").fetchone()
    assert n is not None and n[0] > 0
    with conn:
        conn.execute(f"INSERT OR REPLACE INTO retirees ({cols}) SELECT {cols} FROM retirees"
                     " WHERE deceased_on IS NULL LIMIT 3")
    assert mismatches(conn) == {}
    conn.close()
