"""Shared fixtures: one database factory, a small org, and the real server over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import apsw
import pytest

from server.db import open_writer
from server.ledger import ledgered
from server.process import free_port, stop, wait_ready
from server.serverkeys import init_server
from server.settings import Settings

NOW = datetime(2026, 11, 1, 8, 0, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent


def pytest_report_header() -> list[str]:
    return [f"SQLite {apsw.sqlite_lib_version()} (apsw {apsw.apsw_version()})"]


def uid(n: int) -> str:
    """A readable, valid, deterministic UUID for fixtures."""
    return str(uuid.UUID(int=n, version=4))


@dataclass(frozen=True)
class Org:
    """A county with two townships and a department, as created by :func:`make_org`."""

    county: str = uid(1)
    town_a: str = uid(2)
    town_b: str = uid(3)
    dept: str = uid(4)
    county_code: str = "530326"
    town_a_code: str = "530326101"
    town_b_code: str = "530326102"
    dept_code: str = "530326901"


def make_org(conn: apsw.Connection, now: datetime = NOW) -> Org:
    org = Org()
    with ledgered(conn, kind="import", actor="test", now=now):
        conn.execute("INSERT INTO units (id, code, name, level) VALUES (?, ?, '会泽县', 'county')",
                     (org.county, org.county_code))
        for unit_id, code, name, level in (
            (org.town_a, org.town_a_code, "金钟镇", "township"),
            (org.town_b, org.town_b_code, "娜姑镇", "township"),
            (org.dept, org.dept_code, "县财政局", "department"),
        ):
            conn.execute("INSERT INTO units (id, code, name, level, parent_id) VALUES (?,?,?,?,?)",
                         (unit_id, code, name, level, org.county))
        for i, item in enumerate(("group_study", "home_study", "counselling", "cultural_sports",
                                  "emotional_comfort", "health_care", "home_care")):
            conn.execute("INSERT INTO service_menu (id, item, sort_order) VALUES (?,?,?)", (uid(100 + i), item, i))
    return org


def make_db(tmp_path: Path, kind: str = "central", *, with_org: bool = True) -> Path:
    """The one database factory: a migrated central (optionally with :class:`Org`) or tablet DB."""
    path = tmp_path / f"{kind}.db"
    if kind == "central":
        conn = open_writer(path)
        if with_org:
            make_org(conn)
        conn.close()
    else:
        from schema.migrations import migrate

        conn = apsw.Connection(str(path))
        migrate(conn, "tablet")
        conn.close()
    return path


@pytest.fixture
def server_settings(tmp_path: Path) -> Settings:
    """Settings of a fresh server directory: central DB with :class:`Org`, and server keys."""
    settings = Settings().with_dir(tmp_path / "server")
    init_server(settings)
    conn = open_writer(settings.db_path)
    make_org(conn)
    conn.close()
    return settings


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path


def start_server(settings: Settings, log: Path, *, deadline_s: float = 30.0,
                 extra_env: dict[str, str] | None = None, port: int | None = None) -> LiveServer:
    """Start ``laogan serve`` on a free port and poll /v1/health until it answers."""
    port = port or free_port()
    env = {**os.environ, "LAOGAN_DATA_DIR": str(settings.data_dir), "LAOGAN_DB": str(settings.db_path),
           "LAOGAN_KEYS_DIR": str(settings.keys_dir), **(extra_env or {})}
    out = log.open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(port)], env=env,
                            stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, deadline_s=deadline_s)
    except RuntimeError as exc:
        proc.kill()
        raise RuntimeError(f"{exc}: {log.read_text(errors='replace')}") from None
    return LiveServer(url, settings, proc, log)


def stop_server(server: LiveServer) -> None:
    stop(server.process)


@pytest.fixture
def live_server(server_settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    """The real app under uvicorn on 127.0.0.1, over real HTTP."""
    server = start_server(server_settings, tmp_path / "server.log")
    try:
        yield server
    finally:
        stop_server(server)
