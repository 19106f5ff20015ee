"""Tablets against the real server over real HTTP: shared helpers for the end-to-end tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import apsw
import httpx

from schema.keys import KeyPair
from server import devices
from server.db import open_reader, open_writer
from server.demo import unit_rows as demo_unit_rows
from sync.client import SyncClient
from sync.store import TabletStore
from tests.conftest import LiveServer


def real_now() -> datetime:
    """The live server checks request signatures against its own clock, so tablets use the real one."""
    return datetime.now(UTC)


@dataclass
class Tablet:
    name: str
    store: TabletStore
    client: SyncClient
    http: httpx.Client
    keys: KeyPair
    device_id: str
    unit_id: str

    def close(self) -> None:
        self.http.close()
        self.store.close()


def enrol_code(server: LiveServer, unit_code: str, rng: random.Random) -> str:
    conn = open_writer(server.settings.db_path, create=False)
    try:
        return devices.create_code(conn, unit_code, now=real_now(), rng=rng)
    finally:
        conn.close()


def make_tablet(server: LiveServer, root: Path, unit_code: str, name: str, seed: int = 1) -> Tablet:
    rng = random.Random(seed)
    store = TabletStore.open(root / name / "tablet.db", now=real_now, rng=rng)
    keys = KeyPair.generate(lambda n: rng.randbytes(n))
    keys.save(root / name / "keys")
    http = httpx.Client(timeout=30.0)
    client = SyncClient(store, http, keys=keys, now=real_now, sleep=lambda _s: None, rng=rng, max_attempts=3)
    got = client.enroll(server.url, enrol_code(server, unit_code, rng), name)
    return Tablet(name, store, client, http, keys, got.device_id, got.unit_id)


def unit_rows(conn: apsw.Connection, scope: tuple[str, ...], shared: tuple[str, ...] = ()
              ) -> dict[str, set[tuple[object, ...]]]:
    """Every synced row visible to a device whose units are ``scope`` and that has the units ``shared``
    above it (the demo's definition)."""
    return {name: set(rows) for name, rows in demo_unit_rows(conn, set(scope), set(shared)).items()}


def server_view(server: LiveServer, unit_id: str) -> dict[str, set[tuple[object, ...]]]:
    conn = open_reader(server.settings.db_path)
    try:
        return unit_rows(conn, devices.scope_units(conn, unit_id), devices.ancestor_units(conn, unit_id))
    finally:
        conn.close()


def tablet_view(t: Tablet) -> dict[str, set[tuple[object, ...]]]:
    """Everything the tablet holds (its units' rows and what the units above share with it)."""
    return unit_rows(t.store.conn, tuple(r[0] for r in t.store.conn.execute("SELECT id FROM units")))
