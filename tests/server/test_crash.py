"""Crash safety, proven with real processes: the server SIGKILLed at random instants while several
tablets stream uploads, and a tablet process SIGKILLed during capture and upload.

The comparison (see ``docs/security.md``): device ids and enrolment codes are random, and the order
in which uploads from different tablets land differs from run to run, so ``ledger``, ``uploads``,
``change_log`` and ``devices`` legitimately differ between two runs. What must not differ is the
data: every tablet's work is a pure function of its seed (:class:`~tests.server.crash_harness.Plan`),
touches only its own rows, and so a run with kills and a crash-free run of the same ops must end with
byte-identical domain tables (``table_checksums`` over the synced tables). On top of that, per
device every captured sequence number is accepted exactly once, every row the tablets wrote is
there and every row they deleted is gone, the ledger verifies, and replaying the ledger rebuilds
exactly the live tables.

Short runs (a handful of kills) are part of ``make test``; ``make stress`` runs 100+ kills.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from schema.keys import KeyPair
from server.db import open_reader
from server.ledger import head
from server.ledger_audit import table_checksums
from sync.store import TabletStore
from tests.conftest import REPO, LiveServer, Org
from tests.server.crash_harness import (
    HTablet,
    Plan,
    Sent,
    Server,
    StepClock,
    account,
    client_for,
    domain_checksums,
    enrol_codes,
    fresh_server,
    ledger_ok,
    make_htablet,
    poll,
    replay_until,
    report,
    server_rows,
    sized,
    tablet_rows,
)
from tests.server.e2e import unit_rows

ORG = Org()


@dataclass(frozen=True)
class Size:
    kills: int
    tablets: int
    seed: int


class Progress:
    """Counts uploads answered 200 (the kill trigger), requests cut off by a kill, and connection
    attempts refused while the server was down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.uploads_ok = 0
        self.cut = 0
        self.refused = 0

    def __call__(self, s: Sent) -> None:
        with self._lock:
            if s.error in ("ConnectError", "ConnectTimeout"):
                self.refused += 1
            elif s.status is None:
                self.cut += 1
            elif s.path == "/v1/changesets" and s.status == 200:
                self.uploads_ok += 1


class Worker(threading.Thread):
    """A tablet capturing its plan and syncing, until told to stop; keeps any failure for the test."""

    def __init__(self, t: HTablet, server: Server, stop: threading.Event, index: int) -> None:
        super().__init__(name=f"tablet-{t.name}", daemon=True)
        self.t, self.server, self.stop, self.cadence = t, server, stop, random.Random(f"cadence-{index}")
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.t.capture_next()
                if self.cadence.random() < 0.5:
                    self.t.sync(self.server)
            self.t.sync(self.server)
        except BaseException as exc:  # reported by the test, never swallowed
            self.error = exc


def _units(n: int) -> list[str]:
    return [(ORG.town_a_code, ORG.town_a_code, ORG.town_b_code, ORG.dept_code)[i % 4] for i in range(n)]


def _reference(root: Path, size: Size, ops: list[int]) -> dict[str, str]:
    """The same tablets' work, crash-free, against a fresh server: its domain table checksums."""
    settings = fresh_server(root / "server")
    server = Server(settings, root / "server.log")
    server.start()
    tablets: list[HTablet] = []
    try:
        codes = enrol_codes(settings, _units(size.tablets), random.Random(1))
        tablets = [make_htablet(server.url, root / "tablets", f"r{i}", code, seed=size.seed, index=i)
                   for i, code in enumerate(codes)]
        for t, n in zip(tablets, ops, strict=True):
            while t.plan.done < n:
                t.capture_next()
                if t.plan.done % 50 == 0:
                    t.sync(server)
            t.sync(server)
    finally:
        for t in tablets:
            t.close()
        server.stop()
    return domain_checksums(settings)


@pytest.mark.parametrize("size", sized(Size(kills=5, tablets=4, seed=11), Size(kills=110, tablets=6, seed=12)))
def test_server_sigkilled_during_uploads_loses_nothing(tmp_path: Path, size: Size,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(size.seed)
    settings = fresh_server(tmp_path / "server")
    server = Server(settings, tmp_path / "server.log")
    codes = enrol_codes(settings, _units(size.tablets), rng)
    server.start()
    progress = Progress()
    tablets = [make_htablet(server.url, tmp_path / "tablets", f"t{i}", code, seed=size.seed, index=i,
                            on_sent=progress) for i, code in enumerate(codes)]
    stop = threading.Event()
    workers = [Worker(t, server, stop, i) for i, t in enumerate(tablets)]
    kills = startup_kills = 0
    try:
        for w in workers:
            w.start()
        while kills < size.kills:
            assert all(w.error is None for w in workers), [w.error for w in workers]
            if kills == 1 or rng.random() < 0.1:  # now and then, die while starting up (migrations, lifespan, first requests)
                server.kill()
                server.spawn()
                time.sleep(rng.uniform(0.0, 0.8))  # the kill lands at a random instant of start-up
                startup_kills += 1
            else:
                target = progress.uploads_ok + rng.randint(1, 4)
                poll("uploads to stream in", lambda: progress.uploads_ok >= target, 120)  # noqa: B023
                time.sleep(rng.uniform(0.0, 0.03))  # the kill lands at a random instant of the stream
            server.kill()
            kills += 1
            server.start()
    finally:
        stop.set()
        for w in workers:
            w.join(300)
    try:
        assert all(w.error is None and not w.is_alive() for w in workers), [w.error for w in workers]
        for t in tablets + tablets:  # everyone pushed; then everyone pulls what the others pushed
            t.sync(server)
        server.stop()
        outboxes = {t.name: t.store.outbox() for t in tablets}
        assert all(e.status == "sent" for entries in outboxes.values() for e in entries)
        acc = account(settings, [(t.device_id, t.plan, [e.seq for e in outboxes[t.name]]) for t in tablets])
        for t in tablets:
            assert tablet_rows(t) == server_rows(settings, t.unit_id), t.name
        ops = [t.plan.done for t in tablets]
    finally:
        for t in tablets:
            t.close()
        server.stop()
    assert ledger_ok(settings)
    live = open_reader(settings.db_path)
    try:
        entries = head(live)[0]
        live_sums = table_checksums(live)
        rows = {name: int(str(live.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]))  # type: ignore[index]
                for name in ("retirees", "contacts", "visits", "service_orders", "roster_history")}
    finally:
        live.close()
    assert replay_until(settings.db_path, entries, tmp_path / "rebuilt.db") == live_sums
    crash_free = _reference(tmp_path / "reference", size, ops)
    assert domain_checksums(settings) == crash_free
    report(capsys, f"crash: server SIGKILL ({size.tablets} tablets)", {
        "kills": kills, "during_startup": startup_kills, "requests_cut_mid_flight": progress.cut,
        "connects_refused": progress.refused,
        "uploads": acc.uploads, "ops": sum(ops), "rows": rows, "lost": acc.lost, "doubled": acc.doubled,
        "not_applied": len(acc.not_applied), "domain_tables_equal_crash_free_run": True,
    })
    assert (acc.lost, acc.doubled, acc.not_applied) == (0, 0, [])


def _child(directory: Path, seed: int, n_ops: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.server.crash_harness", str(directory), str(seed), "0",
                             str(n_ops)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("size", sized(Size(kills=5, tablets=1, seed=21), Size(kills=100, tablets=1, seed=22)))
def test_tablet_sigkilled_during_capture_and_upload_loses_nothing(
        live_server: LiveServer, tmp_path: Path, size: Size, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(size.seed)
    (code,) = enrol_codes(live_server.settings, [ORG.town_b_code], rng)
    t = make_htablet(live_server.url, tmp_path, "k1", code, seed=size.seed, index=0, save_keys=True)
    directory, device_id, unit_id = Path(t.store.conn.filename).parent, t.device_id, t.unit_id
    t.close()
    n_ops = 6 * size.kills + 10
    kills = killed_in_sync = 0
    while True:
        proc = _child(directory, size.seed, n_ops)
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        assert first.startswith("ready "), proc.stderr.read()
        if kills >= size.kills:
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0 and out.rstrip().endswith("done"), err
            break
        last = first
        in_sync = rng.random() < 0.5  # half the kills aim at an upload, half at any instant
        for _ in range(rng.randint(0, 5) if not in_sync else 40):
            last = proc.stdout.readline()
            if not last or last == "done\n" or (in_sync and last == "sync\n"):
                break
        assert last != "done\n", "the tablet finished before all kills were made; raise n_ops"
        time.sleep(rng.uniform(0.0, 0.02))  # the kill lands at a random instant of a capture or an upload
        proc.kill()
        proc.wait(60)
        proc.stdout.close()
        proc.stderr.close()
        kills += 1
        killed_in_sync += last == "sync\n"
    store = TabletStore.open(directory / "tablet.db", now=StepClock(), rng=random.Random(0))
    try:
        with httpx.Client(timeout=30.0) as http:
            client_for(store, http, KeyPair.load(directory / "keys"), jitter_seed=1).sync()
        outbox = store.outbox()
        assert [e.seq for e in outbox] == list(range(1, n_ops + 1))
        assert all(e.status == "sent" for e in outbox)
        plan = Plan(size.seed, 0, unit_id)
        plan.skip_to(n_ops)
        acc = account(live_server.settings, [(device_id, plan, [e.seq for e in outbox])])
        view = unit_rows(store.conn, tuple(str(r[0]) for r in store.conn.execute("SELECT id FROM units")))
    finally:
        store.close()
    assert view == server_rows(live_server.settings, unit_id)
    assert ledger_ok(live_server.settings)
    report(capsys, "crash: tablet SIGKILL", {"kills": kills, "killed_while_syncing": killed_in_sync,
                                             "ops": n_ops, "uploads": acc.uploads, "lost": acc.lost,
                                             "doubled": acc.doubled})
    assert (acc.lost, acc.doubled, acc.not_applied) == (0, 0, [])

