"""``laogan backup`` / ``laogan restore``: a consistent online copy, a checked restore.

The strongest check is taken while uploads stream in: each backup must be the live database exactly
as of one commit — its ledger a prefix of the live ledger, and replaying the live ledger up to the
backup's head must give the backup's tables — and restoring it must give a database whose ledger
verifies and whose every table equals the backup's.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import apsw
import click
import pytest
from click.testing import CliRunner

from schema.keys import load_public_keys
from server.backup import BackupError, backup, restore
from server.commands.backup import backup as backup_cmd
from server.commands.backup import restore as restore_cmd
from server.db import open_central, open_reader
from server.ledger import head
from server.ledger_audit import checkpoint, table_checksums, verify
from server.serverkeys import load_server_keys
from server.settings import Settings
from tests.conftest import Org
from tests.server.crash_harness import (
    HTablet,
    Server,
    all_tables_digest,
    enrol_codes,
    fresh_server,
    make_htablet,
    poll,
    real_now,
    replay_until,
)

ORG = Org()


def _serve(tmp_path: Path) -> tuple[Settings, list[HTablet], Server]:
    settings = fresh_server(tmp_path / "server")
    codes = enrol_codes(settings, [ORG.town_a_code, ORG.town_b_code], random.Random(2))
    server = Server(settings, tmp_path / "server.log")
    server.start()
    tablets: list[HTablet] = []
    try:
        tablets += [make_htablet(server.url, tmp_path / "tablets", f"b{i}", c, seed=2, index=i)
                    for i, c in enumerate(codes)]
        for _ in range(5):
            for t in tablets:
                t.capture_next()
                t.sync()
    except BaseException:  # a failed setup must not leave the server running after the session
        for t in tablets:
            t.close()
        server.stop()
        raise
    return settings, tablets, server


@pytest.fixture
def busy(tmp_path: Path) -> Iterator[tuple[Settings, list[HTablet], Server]]:
    """A served database with some history: two tablets have uploaded a few changes, and go on."""
    settings, tablets, server = _serve(tmp_path)
    try:
        yield settings, tablets, server
    finally:
        for t in tablets:
            t.close()
        server.stop()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The same, with the server stopped (the tests below only read the source database)."""
    settings, tablets, server = _serve(tmp_path_factory.mktemp("history"))
    for t in tablets:
        t.close()
    server.stop()
    return settings


def _ledger(path: Path) -> list[tuple[int, str]]:
    conn = open_reader(path)
    try:
        return [(int(str(i)), str(h)) for i, h in conn.execute("SELECT id, hash FROM ledger ORDER BY id")]
    finally:
        conn.close()


def _verified(path: Path, settings: Settings) -> bool:
    conn = open_reader(path)
    try:
        return verify(conn, load_public_keys(settings.keys_dir)[0]).ok
    finally:
        conn.close()


def test_backup_and_restore_round_trip(history: Settings, tmp_path: Path) -> None:
    settings = history  # quiescent: the copy must equal the source table for table
    pub = load_public_keys(settings.keys_dir)[0]
    out = tmp_path / "copies" / "central-1.db"
    out.parent.mkdir()
    made = backup(settings.db_path, out, pub)
    assert made.path == out and made.ledger_entries == len(_ledger(settings.db_path))
    assert not (out.parent / "central-1.db.partial").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["central-1.db"]  # self-contained, no -wal
    assert all_tables_digest(out) == all_tables_digest(settings.db_path)
    restored = tmp_path / "restored" / "central.db"
    done = restore(out, restored, pub)
    assert done.head_hash == made.head_hash
    assert all_tables_digest(restored) == all_tables_digest(settings.db_path)
    assert _verified(restored, settings)


def test_backup_never_overwrites_and_restore_needs_force(history: Settings, tmp_path: Path) -> None:
    settings = history
    pub = load_public_keys(settings.keys_dir)[0]
    with pytest.raises(BackupError) as e:
        backup(tmp_path / "no-such.db", tmp_path / "a.db", pub)
    assert e.value.code == "backup_invalid" and not list(tmp_path.iterdir())
    out = tmp_path / "b.db"
    out.write_bytes(b"precious")
    with pytest.raises(BackupError) as e:
        backup(settings.db_path, out, pub)
    assert e.value.code == "backup_exists" and out.read_bytes() == b"precious"
    stale = tmp_path / "c.db.partial"
    stale.write_bytes(b"")
    with pytest.raises(BackupError) as e:
        backup(settings.db_path, tmp_path / "c.db", pub)
    assert e.value.code == "backup_in_progress" and not (tmp_path / "c.db").exists()
    good = tmp_path / "good.db"
    backup(settings.db_path, good, pub)
    target = tmp_path / "live" / "central.db"
    target.parent.mkdir()
    target.write_bytes(b"old")
    Path(str(target) + "-wal").write_bytes(b"stale wal")  # must never meet the restored file
    with pytest.raises(BackupError) as e:
        restore(good, target, pub)
    assert e.value.code == "restore_target_exists" and target.read_bytes() == b"old"
    restore(good, target, pub, force=True)
    assert not Path(str(target) + "-wal").exists()
    assert all_tables_digest(target) == all_tables_digest(good)


def test_restore_refuses_a_tampered_or_foreign_backup(history: Settings, tmp_path: Path) -> None:
    settings = history
    pub = load_public_keys(settings.keys_dir)[0]
    good = tmp_path / "good.db"
    backup(settings.db_path, good, pub)
    tampered = tmp_path / "tampered.db"
    tampered.write_bytes(good.read_bytes())
    conn = apsw.Connection(str(tampered))
    conn.execute("UPDATE ledger SET summary = '{\"edited\":1}' WHERE id = 2")
    conn.close()
    with pytest.raises(BackupError) as e:
        restore(tampered, tmp_path / "x.db", pub)
    assert e.value.code == "ledger_broken" and not (tmp_path / "x.db").exists()
    other = fresh_server(tmp_path / "other")  # a genuine database, signed by another server
    c = open_central(other.db_path)
    checkpoint(c, load_server_keys(other).sign_key, real_now())
    c.close()
    with pytest.raises(BackupError) as e:
        restore(other.db_path, tmp_path / "y.db", pub)
    assert e.value.code == "ledger_broken"
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises(BackupError):
        restore(junk, tmp_path / "z.db", pub)
    assert not list(tmp_path.glob("*.partial"))


def test_backups_taken_while_uploads_stream_in_are_consistent(busy: tuple[Settings, list[HTablet], Server],
                                                               tmp_path: Path) -> None:
    settings, tablets, server = busy
    pub = load_public_keys(settings.keys_dir)[0]
    stop = threading.Event()
    errors: list[BaseException] = []

    def stream(t: HTablet) -> None:
        try:
            while not stop.is_set():
                t.capture_next()
                t.sync(server)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=stream, args=(t,), daemon=True) for t in tablets]
    for th in threads:
        th.start()
    copies: list[Path] = []
    try:
        for n in range(3):
            target = len(_ledger(settings.db_path)) + 3
            poll("more uploads", lambda: len(_ledger(settings.db_path)) > target, 60)  # noqa: B023
            copies.append(tmp_path / f"online-{n}.db")
            backup(settings.db_path, copies[-1], pub)
    finally:
        stop.set()
        for th in threads:
            th.join(120)
    assert errors == []
    live = _ledger(settings.db_path)
    heads = []
    for n, copy in enumerate(copies):
        theirs = _ledger(copy)
        assert theirs == live[: len(theirs)]  # a prefix of the live ledger: one commit's view
        heads.append(len(theirs))
        conn = open_reader(copy)
        try:
            sums = table_checksums(conn)
            assert head(conn)[0] == len(theirs)
        finally:
            conn.close()
        assert replay_until(settings.db_path, len(theirs), tmp_path / f"replayed-{n}.db") == sums
        restored = tmp_path / f"restored-{n}" / "central.db"
        restore(copy, restored, pub)
        assert all_tables_digest(restored) == all_tables_digest(copy)
        assert _verified(restored, settings)
    assert heads == sorted(heads) and heads[-1] < len(live)  # taken mid-stream, while it kept growing


def test_commands(history: Settings, tmp_path: Path) -> None:
    settings = history
    env = {"LAOGAN_DATA_DIR": str(settings.data_dir), "LAOGAN_DB": str(settings.db_path),
           "LAOGAN_KEYS_DIR": str(settings.keys_dir)}
    runner = CliRunner()
    out = tmp_path / "cli.db"
    r = runner.invoke(backup_cmd, ["--out", str(out)], env=env)
    assert r.exit_code == 0, r.output
    assert "ledger intact" in r.output and out.exists()
    again = runner.invoke(backup_cmd, ["--out", str(out)], env=env)
    assert again.exit_code == 1 and isinstance(again.exception, BackupError)
    target = tmp_path / "restored.db"
    r = runner.invoke(restore_cmd, [str(out), "--db", str(target), "--pub", str(settings.keys_dir / "sign.pub")],
                      env=env)
    assert r.exit_code == 0, r.output
    assert all_tables_digest(target) == all_tables_digest(out)
    refused = runner.invoke(restore_cmd, [str(out), "--db", str(target)], env=env)
    assert refused.exit_code == 1 and getattr(refused.exception, "code", None) == "restore_target_exists"
    for cmd in (backup_cmd, restore_cmd):
        assert cmd.help and all(p.help for p in cmd.params if isinstance(p, click.Option))
