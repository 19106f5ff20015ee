"""Load: many tablets syncing at once against one real server over loopback, for a bounded time.

Each tablet is a thread with its own tablet database file, its own ``httpx.Client`` (and connection
pool) and its own keys; it loops capture → push → pull until the deadline. Then everyone pulls once
more and each tablet must hold exactly the server's rows for its units. Latencies are measured at the
transport (:class:`~tests.server.crash_harness.Recorder`, which forwards to the real server), per
request, including the response body.

The load generator shares the machine with the server: the test reports the CPU time each side
used, so a reader can tell whether the numbers describe the server or the generator (Python threads
sealing HPKE envelopes share one interpreter lock). The simulated tablets' own databases run with
``synchronous = OFF``: tablet durability is proven elsewhere (``test_crash.py``), and hundreds of
tablet files fsyncing on the server's disk would measure the generator, not the server. The
per-device rate limit stays at its default (20 requests/s, burst 200): a tablet here makes a few
requests per second, so no 429 is expected. A request the transport loses (a keep-alive
connection the server closed just as the tablet reused it) is retried by the client like any
transport error; those are counted, not failed.

``make test`` runs 20 tablets for a few seconds; ``make stress`` runs 200 tablets for 30 seconds.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Org
from tests.server.crash_harness import (
    HTablet,
    Server,
    account,
    enrol_codes,
    fresh_server,
    ledger_ok,
    make_htablet,
    report,
    server_rows,
    sized,
    tablet_rows,
)

ORG = Org()


@dataclass(frozen=True)
class Load:
    tablets: int
    seconds: float


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc), to show who did the work."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # not Linux: the figure is simply not reported
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


@pytest.mark.parametrize("load", sized(Load(20, 4.0), Load(200, 30.0)))
def test_many_tablets_sync_at_once_and_converge(tmp_path: Path, load: Load, capsys: pytest.CaptureFixture[str]) -> None:
    settings = fresh_server(tmp_path / "server")
    units = [(ORG.town_a_code, ORG.town_b_code, ORG.dept_code, ORG.county_code)[i % 4] for i in range(load.tablets)]
    codes = enrol_codes(settings, units, random.Random(1))
    server = Server(settings, tmp_path / "server.log")
    server.start()
    tablets: list[HTablet] = []
    errors: list[BaseException] = []
    try:
        with ThreadPoolExecutor(16) as pool:
            tablets = list(pool.map(lambda ic: make_htablet(server.url, tmp_path / "tablets", f"L{ic[0]}", ic[1],
                                                            seed=3, index=ic[0]), enumerate(codes)))
        for t in tablets:
            t.store.conn.execute("PRAGMA synchronous = OFF")  # see the module docstring
        start = threading.Barrier(load.tablets + 1)
        rounds = [0] * load.tablets

        def work(i: int, t: HTablet, until: list[float]) -> None:
            try:
                start.wait()
                while time.monotonic() < until[0]:
                    t.capture_next()
                    t.sync()
                    rounds[i] += 1
            except BaseException as exc:  # reported below, never swallowed
                errors.append(exc)

        until = [0.0]
        threads = [threading.Thread(target=work, args=(i, t, until), daemon=True) for i, t in enumerate(tablets)]
        for th in threads:
            th.start()
        server_cpu0, client_cpu0 = _cpu_seconds(server.live().process.pid), time.process_time()
        until[0] = time.monotonic() + load.seconds
        t0 = time.monotonic()
        start.wait()
        for th in threads:
            th.join(load.seconds + 300)
        wall = time.monotonic() - t0
        server_cpu, client_cpu = _cpu_seconds(server.live().process.pid) - server_cpu0, time.process_time() - client_cpu0
        assert errors == [] and not any(th.is_alive() for th in threads), errors[:3]
        with ThreadPoolExecutor(16) as pool:  # everyone pulls what the others pushed last
            list(pool.map(lambda t: t.sync(), tablets))
        for t in tablets:
            assert tablet_rows(t) == server_rows(settings, t.unit_id), t.name
        sent = [s for t in tablets for s in t.recorder.sent]
        acc = account(settings, [(t.device_id, t.plan, [e.seq for e in t.store.outbox()]) for t in tablets])
    finally:
        for t in tablets:
            t.close()
        server.stop()
    unexpected = [s for s in sent if s.status is not None and s.status >= 400 and s.status != 429]
    transport = [s.error for s in sent if s.status is None]
    uploads = [s.seconds * 1000 for s in sent if s.path == "/v1/changesets" and s.status == 200]
    pulls = [s.seconds * 1000 for s in sent if s.path == "/v1/changes" and s.status == 200]
    report(capsys, f"load: {load.tablets} tablets, {load.seconds:.0f} s", {
        "tablets": load.tablets, "rounds": sum(rounds), "uploads": len(uploads), "requests": len(sent),
        "uploads_per_s": f"{len(uploads) / wall:.0f}", "upload_p50_ms": f"{_pct(uploads, 50):.1f}",
        "upload_p99_ms": f"{_pct(uploads, 99):.1f}", "pull_p50_ms": f"{_pct(pulls, 50):.1f}",
        "pull_p99_ms": f"{_pct(pulls, 99):.1f}", "429s": sum(1 for s in sent if s.status == 429),
        "unexpected": len(unexpected), "transport_retried": len(transport), "converged": f"{len(tablets)}/{load.tablets}", "lost": acc.lost,
        "doubled": acc.doubled, "server_cpu_s": f"{server_cpu:.1f}", "generator_cpu_s": f"{client_cpu:.1f}",
        "wall_s": f"{wall:.1f}",
    })
    assert unexpected == [], [(s.method, s.path, s.status) for s in unexpected[:5]]
    assert len(transport) <= len(sent) // 100, transport[:5]  # rare keep-alive races, retried by the client
    assert (acc.lost, acc.doubled, acc.not_applied) == (0, 0, [])
    assert all(r > 0 for r in rounds)
    assert ledger_ok(settings)
