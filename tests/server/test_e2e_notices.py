"""End to end, over real HTTP: a notice issued above a tablet's unit reaches it, a delivery recorded against
it reaches the server; a tablet one schema version behind (3) keeps syncing, and catches up when it migrates."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import apsw
import httpx
import pytest

from schema.auth import sign_request
from schema.envelope import KIND_PULL, verify_and_open
from schema.keys import KeyPair
from schema.migrations import migrate
from server.db import open_reader, open_writer
from server.notices import add_notice
from sync.client import SyncClient
from sync.clock import unix
from sync.errors import ReadOnlyTable
from sync.store import TabletStore
from tests.conftest import LiveServer, Org, uid
from tests.server.e2e import Tablet, enrol_code, make_tablet, real_now, server_view, tablet_view
from tests.server.harness import RETIREE_COLS

ORG = Org()
MUST = ("INSERT INTO three_musts (id, unit_id, retiree_id, kind, item, delivered_on, method{})"
        " VALUES (?, ?, ?, 'document', '市委老干部局2026年工作要点', '2026-03-05', 'in_person'{})")


def _issue(server: LiveServer) -> str:
    conn = open_writer(server.settings.db_path, create=False)
    try:
        return add_notice(conn, unit_code=ORG.county_code, kind="document", title="市委老干部局2026年工作要点",
                          issued_on="2026-03-01", due_by="2026-03-31", for_category="general", actor="office",
                          now=real_now(), rng=random.Random(5)).id
    finally:
        conn.close()


def _retiree(t: Tablet, n: int) -> str:
    rid = uid(7_000_000 + n)
    vals = (rid, t.unit_id, f"钱{n}", "male", "1941-02-02", f"53032619410202{n:04d}", "general", "13900000000", "娜姑镇")
    with t.store.capture() as c:
        c.execute(f"INSERT INTO retirees ({', '.join(RETIREE_COLS)}) VALUES ({', '.join('?' * len(vals))})", vals)
    return rid


def _server_one(server: LiveServer, sql: str, args: tuple[object, ...]) -> tuple[object, ...] | None:
    conn = open_reader(server.settings.db_path)
    try:
        row = conn.execute(sql, args).fetchone()
        return None if row is None else tuple(row)
    finally:
        conn.close()


def _v3_tablet(server: LiveServer, root: Path, unit_code: str, name: str, seed: int) -> Tablet:
    """A tablet whose database is at schema version 3 (as one that has not been updated yet)."""
    path = root / name / "tablet.db"
    path.parent.mkdir(parents=True)
    conn = apsw.Connection(str(path))
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn, "tablet", target=3)
    rng = random.Random(seed)
    store = TabletStore(conn, now=real_now, rng=rng)
    keys = KeyPair.generate(lambda n: rng.randbytes(n))
    http = httpx.Client(timeout=30.0)
    client = SyncClient(store, http, keys=keys, now=real_now, sleep=lambda _s: None, rng=rng, max_attempts=3)
    got = client.enroll(server.url, enrol_code(server, unit_code, rng), name)
    return Tablet(name, store, client, http, keys, got.device_id, got.unit_id)


@pytest.fixture
def township_a(live_server: LiveServer, tmp_path: Path) -> Iterator[Tablet]:
    t = make_tablet(live_server, tmp_path, ORG.town_a_code, "a1", 1)
    yield t
    t.close()


def test_a_delivery_recorded_against_a_notice_issued_above(live_server: LiveServer, township_a: Tablet) -> None:
    t = township_a
    notice = _issue(live_server)
    t.client.sync()
    assert t.store.conn.execute("SELECT id, unit_id, title, due_by FROM notices").fetchall() == [
        (notice, ORG.county, "市委老干部局2026年工作要点", "2026-03-31")]
    with pytest.raises(ReadOnlyTable), t.store.capture() as c:  # a tablet does not issue or edit notices
        c.execute("UPDATE notices SET due_by = '2026-12-31'")
    rid = _retiree(t, 1)
    with t.store.capture() as c:
        c.execute(MUST.format(", notice_id", ", ?"), (uid(7_100_001), t.unit_id, rid, notice))
    summary = t.client.sync()
    assert [r.status for r in summary.receipts] == ["applied", "applied"]
    assert _server_one(live_server, "SELECT t.retiree_id, n.title FROM three_musts t JOIN notices n ON n.id = t.notice_id"
                       " WHERE t.id = ?", (uid(7_100_001),)) == (rid, "市委老干部局2026年工作要点")
    assert tablet_view(t) == server_view(live_server, t.unit_id)


def test_a_tablet_one_version_behind_keeps_syncing_and_catches_up(live_server: LiveServer, tmp_path: Path) -> None:
    notice = _issue(live_server)
    old = _v3_tablet(live_server, tmp_path, ORG.town_b_code, "b3", 9)
    try:
        old.client.sync()  # its pull is shaped for version 3: no notices, three_musts without notice_id
        assert old.store.schema_version() == 3 and old.store.conn.execute("SELECT count(*) FROM units").fetchone() == (2,)
        rid = _retiree(old, 2)
        with old.store.capture() as c:
            c.execute(MUST.format("", ""), (uid(7_100_002), old.unit_id, rid))
        summary = old.client.sync()
        assert [r.status for r in summary.receipts] == ["applied", "applied"]
        assert _server_one(live_server, "SELECT item, notice_id FROM three_musts WHERE id = ?", (uid(7_100_002),)) == (
            "市委老干部局2026年工作要点", None)
        # the server links it to the notice; a tablet of version 3 that asks without ``schema`` (as the old
        # client did) gets the row in its own shape, and no notices
        conn = open_writer(live_server.settings.db_path, create=False)
        try:
            from server.ledger import ledgered

            with ledgered(conn, kind="admin", actor="test", now=real_now()):
                conn.execute("UPDATE three_musts SET notice_id = ? WHERE id = ?", (notice, uid(7_100_002)))
        finally:
            conn.close()
        page = _legacy_pull(live_server, old)
        changes = [(ch.name, ch.column_count, ch.new) for ch in apsw.Changeset.iter(page)]
        assert ("three_musts", 8, (uid(7_100_002), old.unit_id, rid, None, "document", "市委老干部局2026年工作要点",
                                   "2026-03-05", "in_person")) in changes
        assert all(name != "notices" for name, _, _ in changes)
        old.client.sync()
        assert old.store.conn.execute("SELECT item FROM three_musts").fetchall() == [("市委老干部局2026年工作要点",)]
        path = Path(old.store.conn.filename)
    finally:
        old.close()
    # the tablet is updated: its database migrates, and its next pull brings what the old shape left out
    store = TabletStore.open(path, now=real_now, rng=random.Random(3))
    assert store.schema_version() == 4 and store.cursor() == 0
    http = httpx.Client(timeout=30.0)
    new = Tablet("b4", store, SyncClient(store, http, keys=old.keys, now=real_now, sleep=lambda _s: None,
                                         rng=random.Random(4), max_attempts=3), http, old.keys, old.device_id, old.unit_id)
    try:
        new.client.sync()
        assert store.conn.execute("SELECT notice_id FROM three_musts").fetchall() == [(notice,)]
        assert store.conn.execute("SELECT id FROM notices").fetchall() == [(notice,)]
        assert tablet_view(new) == server_view(live_server, new.unit_id)
    finally:
        new.close()


def _legacy_pull(server: LiveServer, t: Tablet) -> bytes:
    """``GET /v1/changes?after=0`` as a version-3 client sends it (no ``schema``); the opened changeset."""
    path_qs = "/v1/changes?after=0"
    auth = sign_request(t.keys.sign_key, device_id=t.device_id, method="GET", path_qs=path_qs, now=unix(real_now()))
    resp = t.http.get(server.url + path_qs, headers={"authorization": auth})
    assert resp.status_code == 200, resp.text
    enrolment = t.store.enrolment()
    opened = verify_and_open(resp.content, signer_public=enrolment.server_sign_key(), recipient_private=t.keys.box_key,
                             expected_kind=KIND_PULL, expected_device_id=t.device_id)
    assert opened.header.schema_version == 3
    return bytes(opened.changeset)
