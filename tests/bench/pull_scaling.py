"""An incremental pull of 10 changed rows: the province database against the county database.

Each database is the generated profile with its ``change_log`` backfilled (one entry per row, as a
ledgered import leaves it), one device enrolled at its largest township, and then 10 of that
township's contacts edited by a ledgered office change. The tablet's cursor is just before those
edits, so a pull returns exactly the 10 rows. Measured: signed ``GET /v1/changes?after=cursor`` over
HTTP against the real server (median of many), and ``server.pull.build_page`` alone on a read-only
connection. The pull's cost should follow the changes asked for, not the size of the database.

Prepared directories are cached under ``var/bench/pull-{profile}-{seed}/`` (the province is GBs).
"""

from __future__ import annotations

import json
import shutil
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from schema.auth import sign_request
from schema.keys import KeyPair
from server.db import open_reader, open_writer
from server.devices import scope_units
from server.ledger import ledgered
from server.pull import build_page
from server.settings import Settings
from tests.bench.changesets import units_by_size
from tests.bench.common import CACHE, SEED, Ctx, Result, enrol, live_server, logged_db, median, server_dir

CHANGED = 10
PAGE = 5000


def pull_ready(ctx: Ctx, profile: str, seed: int = SEED) -> Path:
    """The cached directory: ``server/`` (database and keys), ``device/`` keys and ``pull.json``."""
    src = logged_db(ctx, profile, seed)
    root = CACHE / f"pull-{profile}-{seed}"
    info = root / "pull.json"
    if info.exists() and json.loads(info.read_text()).get("source_mtime") == src.stat().st_mtime:
        return root
    ctx.echo(f"  preparing {root.relative_to(CACHE.parent.parent)} ...")
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    settings = server_dir(root, src)
    unit_id, code, _ = units_by_size(src)[0]
    dev = enrol(settings, [code])[0]
    dev.keys.save(root / "device")
    conn = open_writer(settings.db_path)
    try:
        cursor = int(conn.execute("SELECT max(seq) FROM change_log").fetchone()[0])
        ids = [str(r[0]) for r in conn.execute(
            "SELECT id FROM contacts WHERE unit_id = ? ORDER BY id LIMIT ?", (unit_id, CHANGED))]
        with ledgered(conn, kind="admin", actor="bench", now=datetime(2026, 11, 2, tzinfo=UTC)) as tx:
            tx.summary = {"event": "bench: 10 contacts edited"}
            for i in ids:
                conn.execute("UPDATE contacts SET notes = coalesce(notes, '') || '(复核)' WHERE id = ?", (i,))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    info.write_text(json.dumps({"device_id": dev.device_id, "unit_id": unit_id, "unit_code": code,
                                "cursor": cursor, "source_mtime": src.stat().st_mtime}))
    return root


def _engine(cases: dict[str, tuple[Path, str, int]], n: int) -> dict[str, tuple[float, int]]:
    """Per profile (database, unit, cursor): median milliseconds of ``build_page`` in a read
    transaction, as the route does, and the rows it returned; the two alternate."""
    conns = {k: open_reader(db) for k, (db, _, _) in cases.items()}
    times: dict[str, list[float]] = {k: [] for k in cases}
    rows: dict[str, int] = {}
    try:
        scopes = {k: scope_units(conns[k], unit) for k, (_, unit, _) in cases.items()}
        for _ in range(n):
            for k, (_, _, cursor) in cases.items():
                t0 = time.perf_counter()
                with conns[k]:
                    page = build_page(conns[k], after=cursor, scope=scopes[k], limit=PAGE)
                times[k].append((time.perf_counter() - t0) * 1000)
                rows[k] = page.rows
    finally:
        for c in conns.values():
            c.close()
    return {k: (median(times[k]), rows[k]) for k in cases}


def _http(roots: dict[str, Path], n: int, after: dict[str, int]) -> dict[str, tuple[float, int, float]]:
    """Per profile: (median ms, rows in the page, first request ms) for signed pulls after
    ``after[profile]``. Both servers run at once and the requests alternate between them, so drift
    on a shared machine hits both alike."""
    metas = {k: json.loads((r / "pull.json").read_text()) for k, r in roots.items()}
    keys = {k: KeyPair.load(r / "device") for k, r in roots.items()}
    times: dict[str, list[float]] = {k: [] for k in roots}
    first: dict[str, float] = {}
    rows: dict[str, int] = {}
    with ExitStack() as stack:
        servers = {k: stack.enter_context(live_server(Settings().with_dir(r / "server"), r / "server.log",
                                                      {"LAOGAN_DEVICE_RATE_PER_S": "0"}))
                   for k, r in roots.items()}
        http = stack.enter_context(httpx.Client(timeout=120))
        for i in range(n + 1):
            for k, srv in servers.items():
                path = f"/v1/changes?after={after[k]}"
                auth = sign_request(keys[k].sign_key, device_id=metas[k]["device_id"], method="GET",
                                    path_qs=path, now=int(time.time()))
                t0 = time.perf_counter()
                resp = http.get(srv.url + path, headers={"authorization": auth})
                ms = (time.perf_counter() - t0) * 1000
                if resp.status_code != 200:
                    raise RuntimeError(f"pull answered {resp.status_code}: {resp.text[:200]}")
                rows[k] = int(resp.headers["x-laogan-rows"])
                if i == 0:
                    first[k] = ms  # a cold cache: reported, not in the median
                else:
                    times[k].append(ms)
    return {k: (median(times[k]), rows[k], first[k]) for k in roots}


def run(ctx: Ctx) -> list[Result]:
    n = 30 if ctx.quick else 200
    big = "province" if (not ctx.quick or (CACHE / f"pull-province-{SEED}" / "pull.json").exists()) else "city"
    got: dict[str, dict[str, Any]] = {}
    roots = {profile: pull_ready(ctx, profile) for profile in ("county", big)}
    metas = {k: json.loads((r / "pull.json").read_text()) for k, r in roots.items()}
    inc = _http(roots, n, {k: m["cursor"] for k, m in metas.items()})
    full = _http(roots, max(3, n // 20), {k: 0 for k in roots})
    eng = _engine({k: (r / "server" / "central.db", metas[k]["unit_id"], metas[k]["cursor"])
                   for k, r in roots.items()}, n)
    for profile, root in roots.items():
        http_ms, rows, first_ms = inc[profile]
        eng_ms, eng_rows = eng[profile]
        if rows != CHANGED or eng_rows != CHANGED:
            raise RuntimeError(f"{profile}: expected {CHANGED} rows, got {rows} (http) / {eng_rows} (engine)")
        size = (root / "server" / "central.db").stat().st_size
        got[profile] = {"http_ms": http_ms, "engine_ms": eng_ms, "first_ms": first_ms, "db_bytes": size,
                        "first_page_ms": full[profile][0], "first_page_rows": full[profile][1]}
    ctx.extra["pull"] = {k: {kk: round(vv, 3) if isinstance(vv, float) else vv for kk, vv in v.items()}
                         for k, v in got.items()}
    c, p = got["county"], got[big]
    size_ratio = p["db_bytes"] / c["db_bytes"]
    target_ok = big == "province"
    r_http = p["http_ms"] / c["http_ms"]
    r_eng = p["engine_ms"] / c["engine_ms"]
    return [
        Result(f"pull_10_rows_{big}_vs_county", p["http_ms"], "ms (median)", c["http_ms"], "ms county", r_http,
               "≤ 1.5×", (r_http <= 1.5) if target_ok else None,
               f"HTTP, signed; databases {size_ratio:.0f}× apart; cold first pull {p['first_ms']:.0f} vs "
               f"{c['first_ms']:.0f} ms"),
        Result("pull_10_rows_engine", p["engine_ms"], "ms (median)", c["engine_ms"], "ms county", r_eng, "≤ 1.5×",
               (r_eng <= 1.5) if target_ok else None, "server.pull.build_page alone"),
        Result("pull_first_page", p["first_page_ms"], "ms", c["first_page_ms"], "ms county",
               p["first_page_ms"] / c["first_page_ms"], "—", None,
               f"a new tablet's first page (after=0): {p['first_page_rows']} vs {c['first_page_rows']} rows"),
    ]
