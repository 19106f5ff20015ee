"""Accounts, the ``laogan audit`` commands, the access-log file and the ledger check on their own."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import apsw
import click
import pytest
from click.testing import CliRunner

from schema.audit_tables import ACCESS_LOG
from server.audit import users
from server.audit.accesslog import AccessEntry, AccessLog, AccessLogUnavailable, open_log
from server.audit.ledgercheck import LedgerCheck
from server.commands.audit import audit
from server.db import open_writer
from server.errors import BadRequest, NotFound
from tests.conftest import make_db
from tests.server.audit.fixture import NOW


@pytest.fixture
def conn(tmp_path: Path) -> apsw.Connection:
    return open_writer(make_db(tmp_path))


def test_add_check_revoke(conn: apsw.Connection) -> None:
    token = users.add(conn, "alice", "auditor", now=NOW, rng=random.Random(1), days=10)
    _, secret = users.parse_token(token) or ("", "")
    row = conn.execute("SELECT role, secret_hash, expires_at FROM audit_users WHERE name = 'alice'").fetchone()
    assert row is not None
    assert row[0] == "auditor" and secret not in row[1] and users.secret_matches(str(row[1]), secret)
    assert row[2] == "2026-11-30 02:00:00"
    assert users.usable("auditor", str(row[2]), None, NOW)
    assert not users.usable("auditor", str(row[2]), None, NOW + timedelta(days=10))
    users.revoke(conn, "alice", now=NOW)
    [u] = users.list_users(conn)
    assert (u.name, u.state(NOW)) == ("alice", "revoked")
    summaries = [json.loads(str(r[0])) for r in conn.execute("SELECT summary FROM ledger WHERE kind = 'admin'")]
    assert summaries == [{"event": "audit user added", "name": "alice", "role": "auditor",
                          "expires_at": "2026-11-30 02:00:00"}, {"event": "audit user revoked", "name": "alice"}]


@pytest.mark.parametrize(("name", "role", "days"), [
    ("", "auditor", None), ("a.b", "auditor", None), ("a b", "auditor", None), ("x" * 65, "auditor", None),
    ("bob", "admin", None), ("bob", "auditor", 0),
])
def test_add_refuses_bad_input(conn: apsw.Connection, name: str, role: str, days: int | None) -> None:
    with pytest.raises(BadRequest):
        users.add(conn, name, role, now=NOW, rng=random.Random(1), days=days)
    assert conn.execute("SELECT count(*) FROM audit_users").fetchone() == (0,)


def test_duplicates_and_unknown(conn: apsw.Connection) -> None:
    users.add(conn, "bob", "senior", now=NOW, rng=random.Random(1))
    with pytest.raises(BadRequest):
        users.add(conn, "bob", "auditor", now=NOW, rng=random.Random(2))
    with pytest.raises(NotFound):
        users.revoke(conn, "nobody", now=NOW)
    assert users.parse_token("nodot") is None and users.parse_token(".x") is None


def test_cli_user_commands(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    runner = CliRunner()
    added = runner.invoke(audit, ["user", "add", "carol", "--role", "senior", "--expires", "30", "--db", str(db)])
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[0]
    assert token.startswith("carol.") and len(token) > 40
    again = runner.invoke(audit, ["user", "add", "carol", "--role", "senior", "--db", str(db)])
    assert again.exit_code != 0
    listed = runner.invoke(audit, ["user", "list", "--db", str(db)])
    assert "carol" in listed.output and "active" in listed.output and token.split(".")[1] not in listed.output
    assert runner.invoke(audit, ["user", "revoke", "carol", "--db", str(db)]).exit_code == 0
    assert "revoked" in runner.invoke(audit, ["user", "list", "--db", str(db)]).output
    assert runner.invoke(audit, ["user", "add", "dave", "--role", "boss", "--db", str(db)]).exit_code != 0


def _commands(cmd: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = [(path, cmd)]
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            out += _commands(sub, (*path, name))
    return out


def test_every_audit_command_and_option_has_help() -> None:
    runner = CliRunner()
    for path, cmd in _commands(audit):
        assert (cmd.help or "").strip(), path
        assert all(p.help for p in cmd.params if isinstance(p, click.Option)), path
        assert runner.invoke(audit, [*path, "--help"]).exit_code == 0


def test_serve_refuses_a_missing_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(audit, ["serve", "--db", str(tmp_path / "none.db"), "--work-dir", str(tmp_path)])
    assert result.exit_code != 0


def _entry(n: int) -> AccessEntry:
    return AccessEntry(f"2026-11-20 02:00:{n:02d}", "alice", "auditor", "GET", f"/p{n}", "", 200, "127.0.0.1")


def test_access_log_file(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    log = AccessLog(path)
    futures = [log.submit(_entry(n)) for n in range(50)]
    for f in futures:
        f.result(timeout=10)
    assert log.healthy
    log.close()
    with pytest.raises(AccessLogUnavailable):
        log.submit(_entry(99)).result(timeout=10)
    conn = open_log(path)  # reopening migrates nothing twice
    cols = [r[1] for r in conn.execute("PRAGMA table_info(audit_access_log)")]
    paths = [r[0] for r in conn.execute("SELECT path FROM audit_access_log ORDER BY id")]
    conn.close()
    assert cols == list(ACCESS_LOG.column_names())
    assert paths == [f"/p{n}" for n in range(50)]


def test_ledger_check_without_keys(tmp_path: Path) -> None:
    check = LedgerCheck(make_db(tmp_path), tmp_path / "no-keys")
    verdict = json.loads(check.verdict_json())
    check.close()
    assert verdict["ok"] is False and "no server public key" in verdict["reason"]
