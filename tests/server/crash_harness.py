"""Harness for the reliability tests: a real server that can be SIGKILLed and restarted, tablets
whose work is the same in every run, and the accounting that proves nothing was lost or doubled.

* :class:`Server` runs ``python -m server serve`` (what ``laogan serve`` runs) exactly as
  :func:`tests.conftest.start_server` does, but keeps **one port** across restarts, so a tablet's
  own retries reach the restarted server just as they would in production.
* :class:`Plan` is a tablet's work as a pure function of (seed, tablet, op index): the same ops,
  the same row ids and values in every run. Row ids come from the plan, roster-history ids from the
  store's ``rng`` re-seeded per op, capture times from :class:`StepClock` set per op — so a run with
  kills and a run without produce identical domain rows, and a killed tablet process can resume.
* :class:`Recorder` is an ``httpx`` transport that forwards every request to the real server and
  records what went out and how long it took (it never makes up a response).
* :func:`account` compares what the tablets captured with what the server holds.

Run as ``python -m tests.server.crash_harness DIR SEED TABLET N`` it is the tablet child of the
tablet-kill test: it resumes the plan from its own outbox, prints a line per capture and per sync,
and is killed at random.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apsw
import httpx
import pytest

from schema.keys import KeyPair, load_public_keys
from schema.migrations import migrate
from schema.tables import synced_tables
from server import devices
from server.db import open_reader, open_writer
from server.ledger_audit import table_checksums, verify
from server.process import free_port
from server.serverkeys import init_server
from server.settings import Settings
from sync.client import SyncClient
from sync.errors import ServerUnavailable
from sync.paths import TabletDir
from sync.store import TabletStore
from tests.conftest import REPO, LiveServer, make_org
from tests.server.e2e import unit_rows
from tests.server.harness import RETIREE_COLS

STRESS = bool(os.environ.get("LAOGAN_STRESS"))
OP0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
"""Capture time of op 0; op i is captured at OP0 + i minutes."""
DOMAIN = tuple(t.name for t in synced_tables())


def real_now() -> datetime:
    return datetime.now(UTC)



def poll(what: str, ok: Callable[[], bool], deadline_s: float, interval: float = 0.01) -> None:
    """Wait until ``ok()`` is true; raise after ``deadline_s`` (no fixed sleeps)."""
    end = time.monotonic() + deadline_s
    while not ok():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


# -- the server ----------------------------------------------------------------------------------


def fresh_server(root: Path) -> Settings:
    """A server directory: central DB with the test org (:func:`tests.conftest.make_org`), keys."""
    settings = Settings().with_dir(root)
    init_server(settings)
    conn = open_writer(settings.db_path)
    make_org(conn)
    conn.close()
    return settings


def enrol_codes(settings: Settings, unit_codes: list[str], rng: random.Random) -> list[str]:
    conn = open_writer(settings.db_path, create=False)
    try:
        return [devices.create_code(conn, code, now=real_now(), rng=rng) for code in unit_codes]
    finally:
        conn.close()


@dataclass
class Server:
    """``python -m server serve`` on a fixed port; ``kill()`` is SIGKILL, ``start()`` restarts it."""

    settings: Settings
    log: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _probe: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=1.0), repr=False)
    """One client for every health probe: ``httpx.get`` would build an SSL context each time."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def live(self) -> LiveServer:
        assert self.process is not None
        return LiveServer(self.url, self.settings, self.process, self.log)

    def spawn(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "LAOGAN_DATA_DIR": str(self.settings.data_dir), "LAOGAN_DB": str(self.settings.db_path),
               "LAOGAN_KEYS_DIR": str(self.settings.keys_dir), **self.extra_env}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(self.port)],
                                            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        self.starts += 1
        return self.process

    def healthy(self) -> bool:
        try:
            return self._probe.get(self.url + "/v1/health").status_code == 200
        except httpx.TransportError:
            return False

    def start(self, deadline_s: float = 60.0) -> None:
        proc = self.spawn()

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}: {self.log.read_text(errors='replace')}")
            return self.healthy()

        poll("the server to answer /v1/health", ready, deadline_s, 0.02)

    def kill(self) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()


# -- what goes over the wire ----------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    status: int | None
    """None: the request failed at the transport (see ``error``)."""
    error: str | None
    """The transport error's class: ``ConnectError`` (server down), ``RemoteProtocolError`` or
    ``ReadError`` (the server died while handling the request) ..."""
    seconds: float
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Recorder(httpx.BaseTransport):
    """Forwards every request to the real transport; records it, its status and its latency."""

    def __init__(self, inner: httpx.BaseTransport | None = None, *, keep_bodies: bool = False,
                 on_sent: Callable[[Sent], None] | None = None) -> None:
        self._inner = inner or httpx.HTTPTransport()
        self._keep = keep_bodies
        self._on_sent = on_sent
        self._lock = threading.Lock()
        self.sent: list[Sent] = []

    def _record(self, request: httpx.Request, status: int | None, error: str | None, seconds: float) -> None:
        s = Sent(request.method, request.url.path, status, error, seconds,
                 tuple((k, v) for k, v in request.headers.items()) if self._keep else (),
                 bytes(request.content) if self._keep else b"")
        with self._lock:
            self.sent.append(s)
        if self._on_sent is not None:
            self._on_sent(s)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        t0 = time.perf_counter()
        try:
            response = self._inner.handle_request(request)
            response.read()  # the whole answer, so the latency covers the body too
        except httpx.TransportError as exc:
            self._record(request, None, type(exc).__name__, time.perf_counter() - t0)
            raise
        self._record(request, response.status_code, None, time.perf_counter() - t0)
        return response

    def close(self) -> None:
        self._inner.close()


# -- the tablets' work ----------------------------------------------------------------------------


class StepClock:
    """The store's clock: set to the op's capture time before each op; reading it never moves it."""

    def __init__(self) -> None:
        self.at = OP0

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Plan:
    """One tablet's work: op ``i`` is a pure function of (seed, tablet, i) and the ops before it.

    Only the tablet's own rows are touched, so the result does not depend on how uploads from
    different tablets interleave. Every op changes something (one outbox row per op).
    """

    seed: int
    tablet: int
    unit_id: str
    retirees: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    alive: dict[str, set[str]] = field(default_factory=dict)
    """table -> ids of rows this plan inserted and has not deleted (what the server must hold)."""
    gone: dict[str, set[str]] = field(default_factory=dict)
    """table -> ids of rows this plan inserted and then deleted (what the server must not hold)."""
    done: int = 0

    def _ins(self, tbl: str, row_id: str) -> None:
        self.alive.setdefault(tbl, set()).add(row_id)

    def next_op(self) -> list[tuple[str, tuple[object, ...]]]:
        """The statements of op ``self.done`` (one captured transaction); advances the plan."""
        i = self.done
        self.done += 1
        r = random.Random(f"plan-{self.seed}-{self.tablet}-{i}")

        def nid() -> str:
            return str(uuid.UUID(int=r.getrandbits(128), version=4))

        kind = r.choices(["retiree", "contact", "update", "visit", "order", "uncontact"], [2, 5, 3, 2, 2, 1])[0]
        if not self.retirees or (kind == "uncontact" and not self.contacts):
            kind = "retiree"
        day = (OP0 + timedelta(days=i % 60)).date().isoformat()
        if kind == "retiree":
            rid = nid()
            self.retirees.append(rid)
            self._ins("retirees", rid)
            vals = (rid, self.unit_id, f"测{self.tablet}号{i}", r.choice(["male", "female"]), "1941-05-06",
                    f"53{self.tablet:06d}{i:010d}", r.choice(["general", "section_level", "county_level", "lixiu"]),
                    f"138{self.tablet:03d}{i:05d}", f"{self.tablet}村{i}号")
            return [(f"INSERT INTO retirees ({', '.join(RETIREE_COLS)}) VALUES ({', '.join('?' * 9)})", vals)]
        rid = r.choice(self.retirees)
        if kind == "contact":
            cid = nid()
            self.contacts.append(cid)
            self._ins("contacts", cid)
            return [("INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom, reached, notes)"
                     " VALUES (?,?,?,?,?,?,?,?)", (cid, self.unit_id, rid, day, r.choice(["phone", "in_person"]),
                                                   r.choice(["self", "family"]), r.randint(0, 1), f"第{i}次"))]
        if kind == "update":
            col, val = r.choice([("phone", f"139{self.tablet:03d}{i:05d}"), ("address", f"新{i}号"),
                                 ("health_notes", f"记录{i}")])
            return [(f'UPDATE retirees SET "{col}" = ?, living_alone = 1 - living_alone WHERE id = ?', (val, rid))]
        if kind == "visit":
            eid, vid = nid(), nid()
            self._ins("life_events", eid)
            self._ins("visits", vid)
            return [("INSERT INTO life_events (id, unit_id, retiree_id, kind, occurred_on) VALUES (?,?,?,?,?)",
                     (eid, self.unit_id, rid, "hospitalised", day)),
                    ("INSERT INTO visits (id, unit_id, retiree_id, event_id, visited_on, occasion, kind, gift_yuan)"
                     " VALUES (?,?,?,?,?,?,?,?)", (vid, self.unit_id, rid, eid, day, "illness",
                                                   r.choice(["material", "spiritual", "both"]), float(r.randint(0, 5) * 100)))]
        if kind == "order":
            oid = nid()
            self._ins("service_orders", oid)
            return [("INSERT INTO service_orders (id, unit_id, retiree_id, item, requested_on, status)"
                     " VALUES (?,?,?,?,?,?)", (oid, self.unit_id, rid, r.choice(["health_care", "counselling"]),
                                               day, "open"))]
        cid = self.contacts.pop(r.randrange(len(self.contacts)))
        self.alive["contacts"].discard(cid)
        self.gone.setdefault("contacts", set()).add(cid)
        return [("DELETE FROM contacts WHERE id = ?", (cid,))]

    def skip_to(self, n: int) -> None:
        """Advance the plan past ops already captured (a restarted tablet process)."""
        while self.done < n:
            self.next_op()


@dataclass
class HTablet:
    """A tablet for the reliability tests: its store, client, plan and recording transport."""

    name: str
    store: TabletStore
    client: SyncClient
    http: httpx.Client
    recorder: Recorder
    keys: KeyPair
    device_id: str
    unit_id: str
    plan: Plan
    clock: StepClock
    store_rng: random.Random
    unavailable: int = 0

    def capture_next(self) -> None:
        """Run the plan's next op as one captured transaction, exactly as in every other run."""
        i = self.plan.done
        self.clock.at = OP0 + timedelta(minutes=i)
        self.store_rng.seed(f"store-{self.plan.seed}-{self.plan.tablet}-{i}")
        statements = self.plan.next_op()
        with self.store.capture() as c:
            for sql, args in statements:
                c.execute(sql, args)

    def sync(self, server: Server | None = None, deadline_s: float = 120.0) -> None:
        """Sync; while the server is down the client retries, then this waits for it and tries again."""
        end = time.monotonic() + deadline_s
        while True:
            try:
                self.client.sync()
                return
            except ServerUnavailable:
                self.unavailable += 1
                if time.monotonic() > end:
                    raise
                if server is not None:
                    poll("the server to come back", server.healthy, max(0.0, end - time.monotonic()), 0.05)

    def close(self) -> None:
        self.http.close()
        self.store.close()


def client_for(store: TabletStore, http: httpx.Client, keys: KeyPair, jitter_seed: int) -> SyncClient:
    """A client that retries quickly: backoff 0.05 s doubling to 0.4 s, 10 attempts."""
    return SyncClient(store, http, keys=keys, now=real_now, sleep=time.sleep, rng=random.Random(jitter_seed),
                      max_attempts=10, base_delay=0.05, max_delay=0.4)


def make_htablet(url: str, root: Path, name: str, code: str, *, seed: int, index: int,
                 on_sent: Callable[[Sent], None] | None = None, keep_bodies: bool = False,
                 save_keys: bool = False) -> HTablet:
    """Enrol a tablet over HTTP; its store clock and id randomness are the plan's (see module doc)."""
    clock, store_rng = StepClock(), random.Random(0)
    td = TabletDir(root / name)
    store = TabletStore.open(td.db_path, now=clock, rng=store_rng)
    key_rng = random.Random(f"keys-{seed}-{index}")
    keys = KeyPair.generate(lambda n: key_rng.randbytes(n))
    if save_keys:
        keys.save(td.keys_dir)
    recorder = Recorder(keep_bodies=keep_bodies, on_sent=on_sent)
    http = httpx.Client(transport=recorder, timeout=30.0)
    client = client_for(store, http, keys, jitter_seed=index)
    got = client.enroll(url, code, name)
    plan = Plan(seed, index, got.unit_id)
    return HTablet(name, store, client, http, recorder, keys, got.device_id, got.unit_id, plan, clock, store_rng)


def tablet_rows(t: HTablet) -> dict[str, set[tuple[object, ...]]]:
    return unit_rows(t.store.conn, tuple(str(r[0]) for r in t.store.conn.execute("SELECT id FROM units")))


def server_rows(settings: Settings, unit_id: str) -> dict[str, set[tuple[object, ...]]]:
    conn = open_reader(settings.db_path)
    try:
        return unit_rows(conn, devices.scope_units(conn, unit_id), devices.ancestor_units(conn, unit_id))
    finally:
        conn.close()


# -- accounting -----------------------------------------------------------------------------------


@dataclass
class Accounting:
    uploads: int = 0
    """Outbox rows the tablets captured (each must be applied exactly once)."""
    lost: int = 0
    """Captured changes missing on the server: rows absent, deleted rows present, uploads missing."""
    doubled: int = 0
    """Changes applied more than once: a (device, seq) accepted twice, or more upload entries than rows."""
    not_applied: list[str] = field(default_factory=list)
    """Uploads whose fate is not a clean apply (quarantined, conflicted) — none expected here."""


def account(settings: Settings, tablets: list[tuple[str, Plan, list[int]]]) -> Accounting:
    """Compare each tablet's plan and outbox (device id, plan, outbox seqs) with the server."""
    acc = Accounting()
    conn = open_reader(settings.db_path)
    try:
        for device_id, plan, seqs in tablets:
            acc.uploads += len(seqs)
            got: dict[int, int] = {int(str(s)): int(str(n)) for s, n in conn.execute(
                "SELECT seq, count(*) FROM uploads WHERE device_id = ? AND status != 'rejected' GROUP BY seq",
                (device_id,))}
            acc.lost += sum(1 for s in seqs if s not in got)
            acc.doubled += sum(n - 1 for n in got.values()) + sum(1 for s in got if s not in seqs)
            entries = conn.execute(
                "SELECT count(*) FROM ledger WHERE kind = 'upload' AND device_id = ?"
                " AND json_extract(summary, '$.status') != 'rejected'", (device_id,)).fetchone()
            acc.doubled += max(0, int(str(entries[0])) - len(seqs)) if entries else 0
            for (status, seq) in conn.execute(
                    "SELECT status, seq FROM uploads WHERE device_id = ? AND status NOT IN ('applied', 'rejected')",
                    (device_id,)):
                acc.not_applied.append(f"{device_id} seq {seq}: {status}")
            for tbl in set(plan.alive) | set(plan.gone):
                present = {str(r[0]) for r in conn.execute(
                    f'SELECT id FROM "{tbl}" WHERE unit_id = ?', (plan.unit_id,))}
                acc.lost += len(plan.alive.get(tbl, set()) - present)  # captured rows missing
                acc.lost += len(plan.gone.get(tbl, set()) & present)  # captured deletes not applied
    finally:
        conn.close()
    return acc


def domain_checksums(settings: Settings) -> dict[str, str]:
    conn = open_reader(settings.db_path)
    try:
        return table_checksums(conn, DOMAIN)
    finally:
        conn.close()


def ledger_ok(settings: Settings) -> bool:
    conn = open_reader(settings.db_path)
    try:
        return verify(conn, load_public_keys(settings.keys_dir)[0]).ok
    finally:
        conn.close()


def all_tables_digest(path: Path) -> dict[str, str]:
    """SHA-256 of every table's rows (all tables, not only ledgered ones), order-independent."""
    conn = open_reader(path)
    try:
        names = [str(r[0]) for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        out = {}
        for name in names:
            rows = sorted(repr(tuple(r)) for r in conn.execute(f'SELECT * FROM "{name}"'))
            out[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return out
    finally:
        conn.close()


def replay_until(source: Path, head: int, out: Path) -> dict[str, str]:
    """Replay ledger entries 1..``head`` of ``source`` into a fresh database; its table checksums."""
    src = open_reader(source)
    target = apsw.Connection(str(out))
    try:
        target.execute("PRAGMA foreign_keys = ON")
        migrate(target, "central")

        def refuse(reason: int, change: apsw.TableChange) -> int:
            raise RuntimeError(f"ledger replay conflict ({reason}) on {change.name}")

        with target:
            for (effect,) in src.execute("SELECT effect FROM ledger WHERE id <= ? ORDER BY id", (head,)):
                if effect:
                    apsw.Changeset.apply(effect, target, conflict=refuse)
        return table_checksums(target)
    finally:
        target.close()
        src.close()


def sized(short: object, long: object) -> list[object]:
    """Parameters for a test's two sizes: ``short`` in ``make test``, ``long`` (marked slow, run only
    with LAOGAN_STRESS=1) in ``make stress``."""
    return [pytest.param(short, id="short"),
            pytest.param(long, id="stress", marks=[pytest.mark.slow, pytest.mark.skipif(
                not STRESS, reason="long run: LAOGAN_STRESS=1 (make stress)")])]


def report(capsys: pytest.CaptureFixture[str], title: str, figures: dict[str, object]) -> None:
    """Print a test's figures to the terminal even while pytest captures output."""
    with capsys.disabled():
        print(f"\n[{title}] " + "  ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


# -- the tablet child process (run as a module) ---------------------------------------------------


def child_main(directory: Path, seed: int, index: int, n_ops: int) -> None:
    """Resume ``n_ops`` ops of the plan from this tablet's outbox, syncing as it goes; print progress."""
    td = TabletDir(directory)
    clock, store_rng = StepClock(), random.Random(0)
    store = TabletStore.open(td.db_path, now=clock, rng=store_rng)
    keys = KeyPair.load(td.keys_dir)
    with httpx.Client(timeout=30.0) as http:
        client = client_for(store, http, keys, jitter_seed=os.getpid())
        unit_id = store.enrolment().unit_id
        t = HTablet(directory.name, store, client, http, Recorder(), keys, store.enrolment().device_id, unit_id,
                    Plan(seed, index, unit_id), clock, store_rng)
        captured = len(store.outbox())
        t.plan.skip_to(captured)
        print(f"ready {captured}", flush=True)
        while t.plan.done < n_ops:
            t.capture_next()
            print(f"captured {t.plan.done}", flush=True)
            if random.Random(f"sync-{seed}-{index}-{t.plan.done}").random() < 0.5:
                print("sync", flush=True)
                t.sync()
                print("synced", flush=True)
        t.sync()
    store.close()
    print("done", flush=True)


if __name__ == "__main__":
    child_main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
