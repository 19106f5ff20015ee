"""``SyncClient`` against a scripted transport: retries, backoff, resume, pull, errors."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import apsw
import httpx
import msgspec
import pytest

from schema.keys import KeyPair
from schema.wire import Receipt
from sync import errors
from sync.client import SyncClient
from sync.clock import parse_iso, unix
from sync.store import TabletStore
from tests.sync import fake_server as fs
from tests.sync.changeset_factory import record, tablet_db
from tests.sync.conftest import FakeClock, Seed, insert_retiree, make_store


class Sleeps(list[float]):
    """The injected ``sleep``: records the delays instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def device() -> KeyPair:
    return fs.keypair(7)


@pytest.fixture
def server(device: KeyPair, clock: FakeClock) -> fs.FakeServer:
    return fs.FakeServer(device=device, now=lambda: unix(clock()))


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def http(server: fs.FakeServer) -> Iterator[httpx.Client]:
    with httpx.Client(transport=server.transport()) as client:
        yield client


def _client(store: TabletStore, http: httpx.Client, device: KeyPair, clock: FakeClock, sleeps: Sleeps, *,
            max_attempts: int = 8, base_delay: float = 0.5, max_delay: float = 30.0) -> SyncClient:
    return SyncClient(store, http, keys=device, now=clock, sleep=sleeps, rng=random.Random(5),
                      max_attempts=max_attempts, base_delay=base_delay, max_delay=max_delay)


@pytest.fixture
def enrolled(store: TabletStore, seeded: Seed, server: fs.FakeServer) -> Seed:
    store.set_state(server.enrolment_state())
    server.next_seq = 2  # the seed capture (seq 1) is already marked sent
    return seeded


def _edit(store: TabletStore, seed: Seed, phone: str) -> None:
    with store.capture(seed.staff_id) as conn:
        conn.execute("UPDATE retirees SET phone = ? WHERE id = ?", (phone, seed.retiree_id))


def _posts(server: fs.FakeServer) -> list[bytes]:
    return [r.content for r in server.requests if r.method == "POST"]


# -- enrolment ---------------------------------------------------------------------------------


def test_enroll_stores_device_unit_keys_and_cursor(store: TabletStore, http: httpx.Client, device: KeyPair,
                                                   clock: FakeClock, sleeps: Sleeps, server: fs.FakeServer) -> None:
    client = _client(store, http, device, clock, sleeps)
    enrolment = client.enroll("http://laogan.test/", "GOOD-CODE", "一号平板")
    assert (enrolment.device_id, enrolment.unit_id, enrolment.server_url) == (
        fs.DEVICE_ID, fs.UNIT_ID, "http://laogan.test")
    assert enrolment.server_sign_key().public_bytes_raw() == server.keys.public_bytes()[0]
    assert store.cursor() == 0
    sent = msgspec.json.decode(server.requests[0].content)
    assert sent["label"] == "一号平板" and "sign_key" not in sent
    with pytest.raises(errors.AlreadyEnrolled):
        client.enroll("http://laogan.test", "GOOD-CODE")


def test_enroll_refusal_carries_the_server_error(store: TabletStore, http: httpx.Client, device: KeyPair,
                                                 clock: FakeClock, sleeps: Sleeps) -> None:
    with pytest.raises(errors.ServerRefused) as info:
        _client(store, http, device, clock, sleeps).enroll("http://laogan.test", "BAD")
    assert (info.value.status, info.value.server_code, info.value.server_message) == (401, "bad_enrol_code", "登记码无效")
    assert store.state()["device_id"] is None


def test_enroll_retries_even_once_the_request_may_have_arrived(
        store: TabletStore, http: httpx.Client, device: KeyPair, clock: FakeClock, sleeps: Sleeps,
        server: fs.FakeServer) -> None:
    # The server answers the same keys with the same device while the code is valid
    # (tests/server/test_hardening.py), so a timeout after sending is retried like a refused connection.
    server.faults["/v1/enroll"] = [fs.raises(httpx.ConnectError), fs.raises(httpx.ReadTimeout)]
    enrolment = _client(store, http, device, clock, sleeps).enroll("http://laogan.test", "GOOD-CODE")
    assert len(server.requests) == 3 and len(sleeps) == 2
    assert enrolment.device_id == store.state()["device_id"] == fs.DEVICE_ID


# -- push --------------------------------------------------------------------------------------


def test_push_retries_faults_with_the_same_envelope_bytes(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    _edit(store, enrolled, "1")
    [entry] = store.pending()
    server.faults["/v1/changesets"] = [
        fs.raises(httpx.ConnectError), fs.status(503), fs.status(429, {"Retry-After": "2"}),
        fs.raises(httpx.ReadTimeout), fs.status(500), fs.raises(httpx.RemoteProtocolError),
    ]
    clock.advance(3600)  # sending an hour after the edit: created_at is still the capture time
    receipts = _client(store, http, device, clock, sleeps, max_delay=30.0).push()
    assert [r.seq for r in receipts] == [entry.seq]
    bodies = _posts(server)
    assert len(bodies) == 7 and len(set(bodies)) == 1
    assert store.outbox()[-1].envelope == bodies[0]
    [opened] = server.uploads
    assert opened.changeset == entry.changeset
    assert (opened.header.seq, opened.header.cursor, opened.header.created_at) == (
        entry.seq, 0, unix(parse_iso("2024-05-01 08:00:00")))
    assert len(sleeps) == 6 and sleeps[2] == 2.0  # Retry-After honoured
    for attempt, delay in enumerate(sleeps, start=1):
        assert 0 <= delay <= min(30.0, 0.5 * 2 ** (attempt - 1))
    assert store.pending() == []
    stored = msgspec.json.decode(store.outbox()[-1].receipt or "", type=Receipt)
    assert stored.status == "applied"


def test_backoff_is_capped_and_jittered_and_nothing_is_lost(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    _edit(store, enrolled, "1")
    server.faults["/v1/changesets"] = [fs.status(503)] * 8
    with pytest.raises(errors.ServerUnavailable):
        _client(store, http, device, clock, sleeps, base_delay=0.5, max_delay=3.0).push()
    assert len(server.requests) == 8 and len(sleeps) == 7
    rng = random.Random(5)
    assert sleeps == [rng.uniform(0, min(3.0, 0.5 * 2 ** (n - 1))) for n in range(1, 8)]
    assert max(sleeps) <= 3.0 and len(set(sleeps)) == 7
    [entry] = store.pending()
    assert entry.envelope == _posts(server)[0]


def test_retry_after_is_capped_and_may_be_a_date(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    _edit(store, enrolled, "1")
    later = format_datetime(clock() + timedelta(seconds=7), usegmt=True)
    server.faults["/v1/changesets"] = [fs.status(429, {"Retry-After": "999"}),
                                      fs.status(503, {"Retry-After": later})]
    _client(store, http, device, clock, sleeps, max_delay=10.0).push()
    assert sleeps == [10.0, 7.0]


def test_a_restarted_tablet_resends_the_saved_bytes(
        tmp_path: Path, store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair,
        clock: FakeClock, sleeps: Sleeps, server: fs.FakeServer) -> None:
    _edit(store, enrolled, "1")
    server.faults["/v1/changesets"] = [fs.status(502)] * 2
    with pytest.raises(errors.ServerUnavailable):
        _client(store, http, device, clock, sleeps, max_attempts=2).push()
    path = store.conn.filename
    store.close()
    reopened = make_store(Path(path), clock, seed=123)
    try:
        _client(reopened, http, device, clock, sleeps).push()
        assert reopened.pending() == []
    finally:
        reopened.close()
    bodies = _posts(server)
    assert len(bodies) == 3 and len(set(bodies)) == 1
    assert len(server.uploads) == 1


def test_sequence_gap_is_surfaced_and_nothing_is_dropped(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    _edit(store, enrolled, "1")
    _edit(store, enrolled, "2")
    server.next_seq = 1  # the server lost track: it still expects seq 1
    with pytest.raises(errors.SequenceGap) as info:
        _client(store, http, device, clock, sleeps).push()
    assert (info.value.sent_seq, info.value.expected_seq, info.value.code) == (2, 1, "sequence_gap")
    assert "expects 1" in str(info.value)
    assert [e.seq for e in store.pending()] == [2, 3]
    assert len(server.requests) == 1 and sleeps == []


def test_other_client_errors_carry_the_server_code(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    _edit(store, enrolled, "1")
    server.faults["/v1/changesets"] = [fs.error(403, "device_revoked", "设备已吊销")]
    with pytest.raises(errors.ServerRefused) as info:
        _client(store, http, device, clock, sleeps).push()
    assert (info.value.status, info.value.server_code) == (403, "device_revoked")
    assert "设备已吊销" in str(info.value)
    assert len(store.pending()) == 1 and sleeps == []


def test_push_sends_in_sequence_order_and_stops_at_the_first_failure(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    for phone in "123":
        _edit(store, enrolled, phone)
    client = _client(store, http, device, clock, sleeps)
    server.faults["/v1/changesets"] = [fs.status(200)]  # 200 without a receipt
    with pytest.raises(errors.ProtocolError):
        client.push()
    assert [e.seq for e in store.pending()] == [2, 3, 4]
    server.faults.clear()
    receipts = client.push()
    assert [r.seq for r in receipts] == [2, 3, 4]
    assert [u.header.seq for u in server.uploads] == [2, 3, 4]


def test_a_receipt_for_another_sequence_is_a_protocol_error(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    _edit(store, enrolled, "1")
    wrong = Receipt(device_id=fs.DEVICE_ID, seq=99, status="applied", upload_id=1, counts={}, conflicts=0, cursor=1)
    server.faults["/v1/changesets"] = [lambda r: httpx.Response(200, content=msgspec.json.encode(wrong))]
    with pytest.raises(errors.ProtocolError):
        _client(store, http, device, clock, sleeps).push()
    assert len(store.pending()) == 1


def test_push_needs_enrolment(store: TabletStore, seeded: Seed, http: httpx.Client, device: KeyPair,
                              clock: FakeClock, sleeps: Sleeps) -> None:
    _edit(store, seeded, "1")
    with pytest.raises(errors.NotEnrolled):
        _client(store, http, device, clock, sleeps).push()


# -- pull --------------------------------------------------------------------------------------


def _retirees(*rows: tuple[str, str, str]) -> bytes:
    def work(conn: apsw.Connection) -> None:
        for rid, name, idn in rows:
            insert_retiree(conn, rid, fs.UNIT_ID, name=name, id_number=idn)
    return record(tablet_db(), ["retirees"], work)


def test_pull_applies_batches_until_the_server_has_no_more(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    a, b = store.new_id(), store.new_id()
    server.batches = [fs.PullBatch(_retirees((a, "甲", "a1")), 5, more=True),
                      fs.PullBatch(_retirees((b, "乙", "b1")), 9)]
    summary = _client(store, http, device, clock, sleeps).pull()
    assert (summary.batches, summary.changes, summary.cursor) == (2, 2, 9)
    assert [r.url.params["after"] for r in server.requests] == ["0", "5"]
    names = {r[0] for r in store.conn.execute("SELECT name FROM retirees")}
    assert {"甲", "乙"} <= names
    assert store.pending() == []


def test_pull_pushes_pending_changes_first(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    _edit(store, enrolled, "1")
    summary = _client(store, http, device, clock, sleeps).pull()
    assert [r.method for r in server.requests] == ["POST", "GET"]
    assert [r.seq for r in summary.pushed] == [2]
    assert store.pending() == []


def test_a_local_write_during_pull_is_pushed_before_the_pull_is_applied(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    a = store.new_id()
    server.batches = [fs.PullBatch(_retirees((a, "甲", "a1")), 5), fs.PullBatch(_retirees((a, "甲", "a1")), 6)]
    server.on_pull = lambda: _edit(store, enrolled, "edited meanwhile")
    summary = _client(store, http, device, clock, sleeps).pull()
    assert [(r.method, r.url.params.get("after")) for r in server.requests] == [
        ("GET", "0"), ("POST", None), ("GET", "0")]
    assert summary.cursor == 6 and store.pending() == []
    assert store.conn.execute("SELECT phone FROM retirees WHERE id = ?", (enrolled.retiree_id,)).fetchone() == (
        "edited meanwhile",)


def test_a_forged_pull_is_refused(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    server.batches = [fs.PullBatch(_retirees((store.new_id(), "假", "x")), 5, signer=fs.keypair(666))]
    with pytest.raises(errors.ProtocolError, match="bad_signature"):
        _client(store, http, device, clock, sleeps).pull()
    assert store.cursor() == 0
    assert store.conn.execute("SELECT count(*) FROM retirees").fetchone()[0] == 1


def test_more_without_progress_is_a_protocol_error(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    server.batches = [fs.PullBatch(b"", 0, more=True)]
    with pytest.raises(errors.ProtocolError, match="did not move"):
        _client(store, http, device, clock, sleeps).pull()


def test_pull_retries_with_a_fresh_signature(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    server.faults["/v1/changes"] = [fs.status(503), fs.raises(httpx.ConnectError)]
    summary = _client(store, http, device, clock, sleeps).pull()
    assert summary.batches == 1 and len(sleeps) == 2
    assert all(r.headers["authorization"].startswith("Laogan-Sig device=") for r in server.requests)


def test_sync_pushes_then_pulls(
        store: TabletStore, enrolled: Seed, http: httpx.Client, device: KeyPair, clock: FakeClock,
        sleeps: Sleeps, server: fs.FakeServer) -> None:
    _edit(store, enrolled, "1")
    _edit(store, enrolled, "2")
    server.batches = [fs.PullBatch(_retirees((store.new_id(), "丙", "c1")), 12)]
    summary = _client(store, http, device, clock, sleeps).sync()
    assert (summary.uploaded, summary.pulled_changes, summary.pull_batches, summary.cursor) == (2, 1, 1, 12)
    assert [r.seq for r in summary.receipts] == [2, 3]
    assert store.status().last_sync_at is not None
