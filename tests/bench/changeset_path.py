"""One 100k-row changeset through the whole path, against a raw ``apsw.Changeset.apply`` of it.

Whole path: HTTP POST to the real server (uvicorn, one worker), parse, signature, decrypt, bounded
decompress, scope scan, apply with the merge callbacks, change_log triggers, ledger session and
entry, upload row, receipt, commit (``synchronous = FULL``). Baseline: the same changeset applied
with no conflict handler into a copy of the same database file, same pragmas, one transaction.
Both start from the county profile (with its change_log backfilled); the rows belong to its largest
township, 95% inserts (contacts, visits, three-musts) and 5% updates of existing contacts (capped by
what the unit has).

Also reported: the server process's peak RSS (``VmHWM``) for the same upload.
"""

from __future__ import annotations

import time
from pathlib import Path

import apsw
import httpx
import msgspec

from schema.wire import ENVELOPE_MEDIA_TYPE, Receipt
from server.serverkeys import load_server_keys
from tests.bench.changesets import INSERT_MIX, Maker, count_changes, load_unit, seal_upload, units_by_size
from tests.bench.common import (
    Ctx,
    Result,
    cpu_seconds,
    enrol,
    live_server,
    logged_db,
    median,
    peak_rss_mb,
    raw_copy,
    server_dir,
)

try:  # the page cache the server applies a large changeset with; older code had SQLite's default
    from server.reconcile import BULK_CACHE_KIB
except ImportError:  # pragma: no cover - benchmarking an older checkout
    BULK_CACHE_KIB = 2000

NAMES = ("changeset_100k", "server_rss_100k")
RSS_LIMIT_MB = 300.0
BODY_LIMIT = 256 * 1024 * 1024
SERVER_ENV = {"LAOGAN_MAX_BODY_BYTES": str(BODY_LIMIT), "LAOGAN_DEVICE_RATE_PER_S": "0"}


def make_changeset(db: Path, rows: int) -> tuple[bytes, str, int, int]:
    """(changeset, unit code, inserts, updates) for the largest township of ``db``."""
    unit_id, code, _ = units_by_size(db)[0]
    unit = load_unit(db, unit_id)
    updates = min(len(unit.existing), rows // 20)
    total = sum(n for _, n in INSERT_MIX)
    inserts = [(name, (rows - updates) * n // total) for name, n in INSERT_MIX]
    inserts[0] = (inserts[0][0], inserts[0][1] + rows - updates - sum(n for _, n in inserts))
    maker = Maker(unit, seed=100)
    try:
        cs = maker.build(inserts, updates)
    finally:
        maker.close()
    return cs, code, rows - updates, updates


def raw_apply(db: Path, changeset: bytes, work: Path) -> tuple[float, float]:
    """(seconds, CPU seconds) for a plain apply + commit into a fresh copy of ``db`` (the server's
    pragmas)."""
    conn = raw_copy(db, work / "raw.db", BULK_CACHE_KIB)  # the cache the server applies it with
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        with conn:
            apsw.Changeset.apply(changeset, conn)
        return time.perf_counter() - t0, time.process_time() - c0
    finally:
        conn.close()


def whole_path(ctx: Ctx, db: Path, changeset: bytes, code: str, work: Path, rows: int) -> dict[str, float]:
    """Seconds for POST → receipt, the server's CPU seconds for it, seal seconds, peak and idle RSS
    (MiB), envelope bytes."""
    settings = server_dir(work, db)
    dev = enrol(settings, [code])[0]
    box = load_server_keys(settings).box_public
    t0 = time.perf_counter()
    body = seal_upload(changeset, device_id=dev.device_id, seq=1, keys=dev.keys, server_box=box,
                       now=int(time.time()))
    seal_s = time.perf_counter() - t0
    with live_server(settings, work / "server.log", SERVER_ENV) as srv, httpx.Client(timeout=900) as http:
        idle = peak_rss_mb(srv.process.pid)
        cpu0 = cpu_seconds(srv.process.pid)
        t0 = time.perf_counter()
        resp = http.post(srv.url + "/v1/changesets", content=body,
                         headers={"content-type": ENVELOPE_MEDIA_TYPE})
        seconds = time.perf_counter() - t0
        cpu = cpu_seconds(srv.process.pid) - cpu0
        peak = peak_rss_mb(srv.process.pid)
    if resp.status_code != 200:
        raise RuntimeError(f"upload answered {resp.status_code}: {resp.text[:300]}")
    receipt = msgspec.json.decode(resp.content, type=Receipt)
    applied = sum(c.insert + c.update + c.delete for c in receipt.counts.values())
    if receipt.status != "applied" or applied != rows:
        raise RuntimeError(f"upload was {receipt.status} with {applied} of {rows} rows: {receipt.reason}")
    return {"seconds": seconds, "cpu": cpu, "seal": seal_s, "peak": peak, "idle": idle, "bytes": len(body)}


def run(ctx: Ctx) -> list[Result]:
    rows = 20_000 if ctx.quick else 100_000
    repeats = 1 if ctx.quick else 3
    db = logged_db(ctx, "county")
    changeset, code, inserts, updates = make_changeset(db, rows)
    assert count_changes(changeset) == rows
    ctx.echo(f"  {rows:,} rows ({inserts:,} inserts, {updates:,} updates) for unit {code}; "
             f"changeset {len(changeset) / 2**20:.1f} MiB")
    raw, runs = [], []
    for i in range(repeats):  # alternate, so drift on a shared machine hits both alike
        raw.append(raw_apply(db, changeset, ctx.scratch(f"cs-raw-{i}")))
        runs.append(whole_path(ctx, db, changeset, code, ctx.scratch(f"cs-path-{i}"), rows))
    path_s, path_cpu = median([r["seconds"] for r in runs]), median([r["cpu"] for r in runs])
    raw_s, raw_cpu = median([r[0] for r in raw]), median([r[1] for r in raw])
    peak = max(r["peak"] for r in runs)
    ctx.extra["changeset_100k"] = {
        "rows": rows, "inserts": inserts, "updates": updates, "changeset_bytes": len(changeset),
        "envelope_bytes": runs[0]["bytes"], "seal_seconds": round(median([r["seal"] for r in runs]), 3),
        "path_seconds": [round(r["seconds"], 3) for r in runs], "path_server_cpu_seconds": [
            round(r["cpu"], 3) for r in runs], "raw_seconds": [round(r[0], 3) for r in raw],
        "raw_cpu_seconds": [round(r[1], 3) for r in raw], "idle_rss_mb": round(runs[0]["idle"], 1),
    }
    ratio = raw_s / path_s
    cpu_ratio = raw_cpu / path_cpu
    label = f"{rows // 1000}k rows"
    return [
        Result(f"changeset_{rows // 1000}k", rows / path_s, "rows/s", rows / raw_s, "rows/s (raw apply)", ratio,
               "≥ 0.5", ratio >= 0.5, f"{label}: {path_s:.2f} s vs raw {raw_s:.2f} s; by CPU time "
               f"{path_cpu:.2f} vs {raw_cpu:.2f} s = {cpu_ratio:.2f}"),
        Result(f"server_rss_{rows // 1000}k", peak, "MiB peak RSS", None, "", None, f"≤ {RSS_LIMIT_MB:.0f} MiB",
               peak <= RSS_LIMIT_MB, f"uvicorn VmHWM; {runs[0]['idle']:.0f} MiB before the upload"),
    ]
