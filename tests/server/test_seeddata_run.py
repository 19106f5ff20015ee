"""Determinism, the file contract (never overwrite, never half-written), the CLI and generate_into."""

from __future__ import annotations

import hashlib
import random
from datetime import date
from pathlib import Path

import apsw
import pytest
from click.testing import CliRunner

from schema.domain_tables import DOMAIN_TABLES
from server.cli import main
from server.db import open_central, open_reader
from server.seeddata import format_summary, generate, generate_into, summarise


def content_hash(path: Path) -> str:
    """SHA-256 over every row of every domain table, in primary-key order."""
    conn = open_reader(path)
    h = hashlib.sha256()
    try:
        for t in DOMAIN_TABLES:
            h.update(t.name.encode())
            for row in conn.execute(f'SELECT * FROM "{t.name}" ORDER BY "{t.pk}"'):
                h.update(repr(row).encode())
    finally:
        conn.close()
    return h.hexdigest()


def test_same_seed_same_content_different_seed_different(tmp_path: Path) -> None:
    a = generate(tmp_path / "a.db", "tiny", 3)
    b = generate(tmp_path / "b.db", "tiny", 3)
    c = generate(tmp_path / "c.db", "tiny", 4)
    assert a.rows == b.rows and a.count("retirees") == c.count("retirees") == 100
    assert content_hash(tmp_path / "a.db") == content_hash(tmp_path / "b.db")
    assert content_hash(tmp_path / "a.db") != content_hash(tmp_path / "c.db")


def test_as_of_moves_the_year_of_activity(tmp_path: Path) -> None:
    generate(tmp_path / "t.db", "tiny", 1, as_of=date(2025, 6, 30))
    conn = open_reader(tmp_path / "t.db")
    lo, hi = conn.execute("SELECT min(contacted_on), max(contacted_on) FROM contacts").fetchone()
    assert lo >= "2024-07-01" and hi <= "2025-06-30"
    assert conn.execute("SELECT max(visited_on) FROM visits").fetchone()[0] <= "2025-06-30"


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "exists.db"
    out.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        generate(out, "tiny", 1)
    result = CliRunner().invoke(main, ["seed-data", "--profile", "county", "--out", str(out)])
    assert result.exit_code != 0
    assert "already exists" in result.output and len(result.output.strip().splitlines()) == 1
    assert out.read_bytes() == b"keep me"


def test_failure_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "boom.db"

    def explode(stage: str, done: int, total: int) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        generate(out, "tiny", 1, progress=explode)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_cli_generates_the_county_and_prints_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "county.db"
    result = CliRunner().invoke(main, ["seed-data", "--profile", "county", "--seed", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "离退休干部 retirees" in result.output and "4,000" in result.output
    assert "行/秒 rows per second" in result.output
    assert out.exists() and not out.with_name("county.db.partial").exists()
    conn = open_reader(out)
    assert conn.execute("SELECT count(*) FROM retirees").fetchone()[0] == 4000
    assert conn.execute("SELECT count(*) FROM staff").fetchone()[0] == 120
    assert conn.execute("SELECT count(*) FROM units WHERE level = 'county'").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM units WHERE parent_id IS NULL").fetchone()[0] == 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_generate_into_nests_in_the_callers_transaction(tmp_path: Path) -> None:
    conn = open_central(tmp_path / "c.db")
    conn.execute("BEGIN IMMEDIATE")
    counts = generate_into(conn, "tiny", random.Random(9))
    assert counts["retirees"] == 100
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM retirees").fetchone()[0] == 0
    with conn:
        generate_into(conn, "tiny", random.Random(9))
    with pytest.raises(ValueError, match="already holds units"):
        generate_into(conn, "tiny", random.Random(9))
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    text = format_summary(summarise(conn))
    assert "离休干部" in text and "经济困难 financial hardship" in text
    conn.close()


def test_constraints_are_enforced_while_generating(tmp_path: Path) -> None:
    """The bulk writer keeps CHECK and FOREIGN KEY constraints on: a bad row is refused by SQLite."""
    from server.seeddata.common import row_maker
    from server.seeddata.writer import BulkWriter

    conn = open_central(tmp_path / "c.db")
    w = BulkWriter(conn)
    mk = row_maker("units")
    with pytest.raises(apsw.ConstraintError):
        w.write("units", [mk(id="00000000-0000-4000-8000-000000000001", code="1", name="x", level="planet")])
    with pytest.raises(apsw.ConstraintError):
        w.write("units", [mk(id="00000000-0000-4000-8000-000000000001", code="1", name="x", level="city",
                             parent_id="00000000-0000-4000-8000-000000000002")])
    conn.close()
