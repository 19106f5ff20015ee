"""20-row uploads from 100 concurrent tablets against one server worker, driven by ``wrk``.

Each of 100 enrolled devices (spread over the city profile's units) gets its own pre-sealed envelopes
— distinct (device, seq) pairs, 12 contacts + 4 visits + 4 three-musts each — written to files that
the Lua script (``wrk_uploads.lua``) loads and pre-formats. ``wrk -t100 -c100``: one thread, one
connection and one device each, so a device's uploads go out in order, the next after the previous
receipt (a closed loop, as real tablets behave). The per-device rate limit is off for this run
(``LAOGAN_DEVICE_RATE_PER_S=0``): one tablet sends far more than 20 uploads a second here.

Baseline: the same server's ``GET /v1/health`` with the same wrk settings. Generator ceiling: the
same script and settings against :mod:`tests.bench.trivial_server` (a server doing nothing), plus,
for comparison, a threaded Python ``httpx`` client against the same trivial server.
"""

from __future__ import annotations

import json
import math
import resource
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import apsw
import httpx

from server.db import open_reader
from server.process import free_port
from server.process import stop as stop_process
from server.serverkeys import load_server_keys
from tests.bench.changesets import INSERT_MIX, Maker, UnitRows, load_unit, seal_upload, units_by_size
from tests.bench.common import (
    REPO,
    Ctx,
    Result,
    cpu_seconds,
    enrol,
    live_server,
    logged_db,
    python,
    raw_copy,
    server_dir,
)

TABLETS = 100
LUA = Path(__file__).with_name("wrk_uploads.lua")
RATE_CAP = 2000
"""Envelopes are made for up to this many uploads per second over the run (a thread that runs out
stops, and the result says so)."""



def wrk(url: str, seconds: int, bodies: Path | None, mode: str = "once", conns: int = TABLETS) -> dict[str, Any]:
    """Run wrk with the Lua script; returns its JSON summary plus ``wrk_cpu_s`` (its own CPU time)."""
    exe = shutil.which("wrk")
    assert exe is not None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [exe, f"-t{conns}", f"-c{conns}", f"-d{seconds}s", "--timeout", "60s", "-s", str(LUA), url, "--",
         str(bodies) if bodies else "-", mode],
        capture_output=True, text=True, check=False, timeout=seconds + 300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr[-500:]} {out.stdout[-500:]}")
    got: dict[str, Any] = json.loads(line[len("WRKJSON "):])
    got["rate"] = got["requests"] / (got["duration_us"] / 1e6)
    got["wrk_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    got["stderr"] = out.stderr.strip()[-300:]
    return got


@contextmanager
def trivial_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([python(), "-m", "tests.bench.trivial_server", str(port)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "ready PORT"
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


def httpx_ceiling(url: str, body: bytes, seconds: float, threads: int = 16) -> float:
    """Requests per second a threaded httpx client manages against ``url`` (one process)."""
    stop = time.monotonic() + seconds
    counts = [0] * threads

    def worker(k: int) -> None:
        with httpx.Client(timeout=30) as http:
            while time.monotonic() < stop:
                http.post(url, content=body, headers={"content-type": "application/vnd.laogan.envelope"})
                counts[k] += 1

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / (time.monotonic() - t0)


def _units(db: Path, n: int) -> list[UnitRows]:
    out: list[UnitRows] = []
    for unit_id, _code, _ in units_by_size(db, level=None):
        try:
            out.append(load_unit(db, unit_id, max_templates=200))
        except ValueError:
            continue  # a unit with nothing to clone
        if len(out) == n:
            break
    return out


def make_bodies(devs: list[Any], units: dict[str, UnitRows], box: Any, per_device: int,
                out: Path, sample: int = 20) -> tuple[float, int, list[bytes]]:
    """Write each device's sealed envelopes; returns (seconds, total bytes, the first ``sample``
    changesets of every device, for the raw baseline)."""
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    total = 0
    now = int(time.time())
    kept: list[bytes] = []
    for k, dev in enumerate(devs):
        maker = Maker(units[dev.unit_id], seed=10_000 + k)
        lens = []
        with (out / f"{k}.bin").open("wb") as f:
            for seq in range(1, per_device + 1):
                cs = maker.build(INSERT_MIX)
                if seq <= sample:
                    kept.append(cs)
                body = seal_upload(cs, device_id=dev.device_id, seq=seq, keys=dev.keys, server_box=box, now=now)
                f.write(body)
                lens.append(len(body))
        maker.close()
        (out / f"{k}.len").write_text("\n".join(map(str, lens)) + "\n")
        total += sum(lens)
    return time.perf_counter() - t0, total, kept


def _grouped_rate(conn: apsw.Connection, items: list[Any], per_tx: int, one: Any) -> float:
    """Items per second when ``one(item)`` runs for each, ``per_tx`` to a durable transaction."""
    t0 = time.perf_counter()
    for i in range(0, len(items), per_tx):
        with conn:
            for item in items[i:i + per_tx]:
                one(item)
    return len(items) / (time.perf_counter() - t0)


def raw_transactions(db: Path, changesets: list[bytes], work: Path, per_tx: int = 1) -> float:
    """Changesets per second applied by plain ``apsw.Changeset.apply``, ``per_tx`` to a durable
    transaction, into a copy of ``db`` with the server's pragmas (WAL, synchronous FULL, foreign
    keys): what SQLite itself manages for these uploads on this machine (``per_tx`` > 1: as the
    server's group commit does)."""
    conn = raw_copy(db, work / f"raw-{per_tx}.db")
    try:
        return _grouped_rate(conn, changesets, per_tx, lambda cs: apsw.Changeset.apply(cs, conn))
    finally:
        conn.close()


def raw_inserts(db: Path, changesets: list[bytes], work: Path, per_tx: int) -> float:
    """Uploads per second when the rows of ``changesets`` (all INSERTs) are plain ``INSERT``s from
    cached statements, ``per_tx`` uploads to a durable transaction, into a copy of ``db`` (same pragmas
    as :func:`raw_transactions`): SQLite's own ceiling for these rows with one writer — no changeset
    apply, no protocol rows (upload, ledger, ``change_log``), no HTTP. The rows are decoded untimed."""
    uploads: list[list[tuple[str, tuple[Any, ...]]]] = []
    for cs in changesets:
        rows = []
        for ch in apsw.Changeset.iter(cs):
            assert ch.op == "INSERT" and ch.new is not None
            sql = f'INSERT INTO "{ch.name}" VALUES ({", ".join("?" * len(ch.new))})'
            rows.append((sql, tuple(ch.new)))
        uploads.append(rows)
    conn = raw_copy(db, work / f"raw-inserts-{per_tx}.db")

    def insert(rows: list[tuple[str, tuple[Any, ...]]]) -> None:
        for sql, values in rows:
            conn.execute(sql, values)

    try:
        return _grouped_rate(conn, uploads, per_tx, insert)
    finally:
        conn.close()


def _statuses(db: Path) -> dict[str, int]:
    conn = open_reader(db)
    try:
        return {str(s): int(n) for s, n in conn.execute("SELECT status, count(*) FROM uploads GROUP BY status")}
    finally:
        conn.close()


def run(ctx: Ctx) -> list[Result]:
    if shutil.which("wrk") is None:
        return [Result("uploads_100_tablets", None, "", note="wrk not installed (apt-get install -y wrk)")]
    seconds = 5 if ctx.quick else 20
    db = logged_db(ctx, "city")
    units = _units(db, TABLETS)
    work = ctx.scratch("uploads")
    settings = server_dir(work, db)
    by_id = {u.unit_id: u for u in units}
    codes = [units[k % len(units)].unit_code for k in range(TABLETS)]
    devs = enrol(settings, codes)
    per_device = math.ceil(RATE_CAP * seconds / TABLETS)
    box = load_server_keys(settings).box_public
    make_s, total_bytes, sample = make_bodies(devs, by_id, box, per_device, work / "bodies")
    raw_rate = raw_transactions(db, sample, work)
    raw_grouped = raw_transactions(db, sample, work, per_tx=TABLETS)
    raw_insert_floor = raw_inserts(db, sample, work, per_tx=TABLETS)
    n_bodies = per_device * TABLETS
    ctx.echo(f"  {TABLETS} devices over {len(units)} units; {n_bodies:,} envelopes "
             f"({total_bytes / n_bodies:,.0f} B each) sealed in {make_s:.1f} s")

    with live_server(settings, work / "server.log", {"LAOGAN_DEVICE_RATE_PER_S": "0"}) as srv:
        pid = srv.process.pid
        health = wrk(srv.url + "/v1/health", seconds, None)
        cpu0 = cpu_seconds(pid)
        up = wrk(srv.url + "/v1/changesets", seconds, work / "bodies", "once")
        server_cpu = cpu_seconds(pid) - cpu0
    statuses = _statuses(settings.db_path)
    with trivial_server() as url:
        ceiling = wrk(url + "/v1/changesets", min(seconds, 5), work / "bodies", "cycle")
        first_body = (work / "bodies" / "0.bin").read_bytes()[: int((work / "bodies" / "0.len").read_text().split()[0])]
        py_ceiling = httpx_ceiling(url + "/v1/changesets", first_body, 3.0)

    applied = statuses.get("applied", 0)
    rate = up["rate"]
    p99_ms = up["lat_p99_us"] / 1000
    ctx.extra["uploads"] = {
        "seconds": seconds, "tablets": TABLETS, "rows_per_upload": sum(n for _, n in INSERT_MIX),
        "envelopes_made": n_bodies, "envelope_bytes_mean": round(total_bytes / n_bodies),
        "uploads": {k: up[k] for k in ("requests", "rate", "non200", "exhausted_threads", "timeouts",
                                        "lat_mean_us", "lat_p50_us", "lat_p90_us", "lat_p99_us", "lat_max_us")},
        "server_statuses": statuses, "server_cpu_s": round(server_cpu, 1),
        "raw_sqlite_tx_per_s": round(raw_rate), "raw_sqlite_changesets": len(sample),
        "raw_sqlite_grouped_per_s": round(raw_grouped), "raw_inserts_grouped_per_s": round(raw_insert_floor),
        "wrk_cpu_s_uploads": round(up["wrk_cpu_s"], 1),
        "health": {k: health[k] for k in ("requests", "rate", "lat_p50_us", "lat_p99_us")},
        "generator_ceiling_wrk": round(ceiling["rate"]), "generator_ceiling_wrk_cpu_s": round(ceiling["wrk_cpu_s"], 1),
        "generator_ceiling_httpx": round(py_ceiling),
    }
    problems = []
    if up["non200"] or up["exhausted_threads"] or up["timeouts"]:
        problems.append(f"{up['non200']} non-200, {up['exhausted_threads']} threads ran out, "
                        f"{up['timeouts']} timeouts")
    if set(statuses) - {"applied"}:
        problems.append(f"server statuses {statuses}")
    ok = not problems
    wrk_share = up["wrk_cpu_s"] / seconds
    return [
        Result("uploads_100_tablets", rate, "uploads/s", health["rate"], "health req/s", rate / health["rate"],
               "≥ 1,000/s", ok and rate >= 1000,
               "; ".join(problems) or f"{applied:,} applied; server CPU {server_cpu / seconds:.0%} of a core ({server_cpu / max(applied, 1) * 1e3:.1f} ms/upload), "
                                        f"wrk CPU {wrk_share:.0%} of one core"),
        Result("uploads_vs_raw_sqlite", rate, "uploads/s", raw_rate, "raw tx/s", rate / raw_rate, "—", None,
               f"raw: the same 20-row changesets applied one per transaction by apsw, no server ({len(sample):,})"),
        Result("uploads_vs_raw_grouped", rate, "uploads/s", raw_grouped, "raw changesets/s", rate / raw_grouped, "—",
               None, f"raw: the same changesets applied {TABLETS} to a durable transaction (the physical limit of "
                     "one writer with group commit)"),
        Result("uploads_vs_insert_floor", rate, "uploads/s", raw_insert_floor, "raw uploads/s", rate / raw_insert_floor,
               "—", None, f"raw: the same rows as plain INSERTs from cached statements, {TABLETS} uploads to a "
                          "durable transaction; no apply, no protocol rows, no HTTP (SQLite's ceiling for one writer)"),
        Result("uploads_p99_latency", p99_ms, "ms p99", up["lat_p50_us"] / 1000, "ms p50", None, "≤ 100 ms",
               ok and p99_ms <= 100, f"closed loop, 100 connections; max {up['lat_max_us'] / 1000:.0f} ms"),
        Result("load_generator_ceiling", ceiling["rate"], "req/s", rate, "uploads/s", ceiling["rate"] / rate,
               "≫ uploads/s", ceiling["rate"] >= 3 * rate,
               f"same wrk script vs a do-nothing server; Python httpx (16 threads): {py_ceiling:,.0f} req/s"),
    ]
