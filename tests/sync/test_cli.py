"""``laogan tablet`` commands that need no server (init and sync are covered end to end by the lead)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sync.cli import tablet
from tests.sync.changeset_factory import record, tablet_db
from tests.sync.conftest import Seed, make_store, seed_rows


@pytest.fixture
def tablet_dir(tmp_path: Path) -> tuple[Path, Seed]:
    d = tmp_path / "pad"
    store = make_store(d / "tablet.db")
    seed = seed_rows(store)
    store.close()
    return d, seed


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(tablet, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_every_command_has_help() -> None:
    assert tablet.help
    for name, command in tablet.commands.items():
        assert command.help, name
        code, out, _ = _run(name, "--help")
        assert code == 0 and "Usage" in out
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.name}"


def test_sql_prints_selected_rows(tablet_dir: tuple[Path, Seed]) -> None:
    d, _ = tablet_dir
    code, out, _ = _run("sql", "--dir", str(d), "SELECT name, phone FROM retirees")
    assert code == 0
    assert out.splitlines() == ["name\tphone", "张三\tNULL"]


def test_sql_edits_are_captured_with_the_staff_id(tablet_dir: tuple[Path, Seed]) -> None:
    d, seed = tablet_dir
    code, _, err = _run("sql", "--dir", str(d), "--staff", seed.staff_id,
                        f"UPDATE retirees SET living_alone = 1 WHERE id = '{seed.retiree_id}'")
    assert code == 0 and "captured" in err
    store = make_store(d / "tablet.db")
    try:
        assert len(store.pending()) == 1
        assert store.conn.execute("SELECT field, changed_by FROM roster_history").fetchall() == [
            ("living_alone", seed.staff_id)]
    finally:
        store.close()
    code, out, _ = _run("status", "--dir", str(d))
    assert code == 0 and "1 pending, 1 sent" in out and "cursor" in out


@pytest.mark.parametrize(("sql", "code_name"), [
    ("UPDATE units SET name = 'x'", "[read_only_table]"),
    ("DROP TABLE contacts", "[statement_not_allowed]"),
    ("SELEC 1", "[sql_failed]"),
])
def test_sql_errors_are_one_line_and_change_nothing(tablet_dir: tuple[Path, Seed], sql: str,
                                                    code_name: str) -> None:
    d, _ = tablet_dir
    code, _, err = _run("sql", "--dir", str(d), sql)
    assert code != 0
    assert code_name in err and len(err.strip().splitlines()) == 1
    store = make_store(d / "tablet.db")
    try:
        assert store.pending() == []
        assert store.conn.execute("SELECT name FROM units").fetchone() == ("城关镇",)
    finally:
        store.close()


def test_commands_on_a_missing_tablet_say_run_init(tmp_path: Path) -> None:
    for args in (["sql", "SELECT 1"], ["status"], ["sync"]):
        code, _, err = _run(args[0], "--dir", str(tmp_path / "none"), *args[1:])
        assert code == 1 and "[not_enrolled]" in err
    assert not (tmp_path / "none").exists()


def test_sync_before_enrolment_is_refused(tablet_dir: tuple[Path, Seed]) -> None:
    d, _ = tablet_dir
    code, _, err = _run("sync", "--dir", str(d))
    assert code == 1 and "[not_enrolled]" in err


def test_init_refuses_an_enrolled_directory(tablet_dir: tuple[Path, Seed]) -> None:
    d, _ = tablet_dir
    store = make_store(d / "tablet.db")
    store.set_state({"device_id": "6f1c2a0e-8d4b-4c1a-9e3f-0a1b2c3d4e5f"})
    store.close()
    code, _, err = _run("init", "--dir", str(d), "--server", "http://127.0.0.1:9", "--code", "X")
    assert code == 1 and "[already_enrolled]" in err
    assert not (d / "keys").exists()


def test_push_changeset_queues_a_file(tmp_path: Path, tablet_dir: tuple[Path, Seed]) -> None:
    d, seed = tablet_dir
    cid = "0b5c7a2e-1d2f-4a3b-8c4d-5e6f7a8b9c0d"
    data = record(tablet_db(), ["contacts"], lambda c: c.execute(
        "INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom)"
        " VALUES (?, ?, ?, '2024-05-03', 'video', 'family')", (cid, seed.unit_id, seed.retiree_id)))
    f = tmp_path / "c.changeset"
    f.write_bytes(data)
    code, out, _ = _run("push-changeset", "--dir", str(d), str(f))
    assert code == 0 and "seq 2" in out
    f.write_bytes(b"junk")
    code, _, err = _run("push-changeset", "--dir", str(d), str(f))
    assert code == 1 and "[invalid_changeset]" in err
