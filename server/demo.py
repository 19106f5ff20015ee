"""``laogan demo``: a county's month of field work, synced by real tablets against the real server.

0. generate the seed's city as a service database (``DIR/city.db``) and summarise it;
1. generate the county profile into ``DIR/central.db`` as one ledgered import;
2. create the server keys and start ``laogan serve`` (uvicorn on 127.0.0.1, a free port);
3. enrol one tablet per township and department (two in the first two townships, editing some of
   the same people), each a separate ``laogan tablet`` process working a simulated month, partly
   offline, concurrently, syncing over HTTP;
4. a supervisor resolves the conflicts through the API, the tablets sync again;
5. check convergence (each tablet's rows equal the server's rows for its unit), verify the ledger,
   and print a summary.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import apsw
import httpx

from schema.keys import load_public_keys
from schema.tables import synced_tables
from server import devices, supervisors
from server.db import open_central, open_reader, open_writer
from server.ledger import ledgered
from server.ledger_audit import checkpoint, verify
from server.process import free_port, wait_ready
from server.process import stop as stop_process
from server.serverkeys import init_server, load_server_keys
from server.settings import Settings, child_env
from server.state import utc_now

Echo = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    tablets: int
    uploads: int
    rows: int
    conflicts: int
    resolved: int
    quarantined: int
    retried: int
    seconds: float
    sync_seconds: float
    converged: int
    ledger_ok: bool
    head: str
    city_summary: str
    audit_tokens: tuple[tuple[str, str], ...] = ()
    site: str = ""


def _one(conn: apsw.Connection, sql: str) -> object:
    row = conn.execute(sql).fetchone()
    return None if row is None else row[0]


def _count(conn: apsw.Connection, sql: str) -> int:
    return int(str(_one(conn, sql) or 0))


def _laogan(*args: str) -> list[str]:
    return [sys.executable, "-m", "server", *args]


def build_database(settings: Settings, *, seed: int, echo: Echo) -> None:
    """The county profile as one ledgered import, then the server keys."""
    from server.seeddata.generate import generate_into

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    conn = open_writer(settings.db_path)
    try:
        with ledgered(conn, kind="import", actor="demo:seed-data", now=utc_now()) as tx:
            counts = generate_into(conn, "county", random.Random(seed), date(2026, 9, 30))
            tx.summary = {"profile": "county", "seed": seed, "rows": sum(counts.values())}
    finally:
        conn.close()
    echo(f"  县级数据 county profile: {sum(counts.values()):,} rows ({counts.get('retirees', 0):,} retirees)")
    init_server(settings)


def _audit_users(settings: Settings, rng: random.Random) -> tuple[tuple[str, str], ...]:
    """One ready credential per auditor role (valid 7 days), for the summary."""
    from server.audit import users

    conn = open_writer(settings.db_path, create=False)
    try:
        secrets = random.SystemRandom()  # credentials are never derived from the demo's public seed
        return tuple((role, users.add(conn, f"demo-{role}", role, now=utc_now(), rng=secrets, days=7,
                                      actor="demo"))
                     for role in ("auditor", "senior"))
    finally:
        conn.close()


def build_city(path: Path, *, seed: int) -> str:
    """The seed's city as a service database; returns its printable summary."""
    from server.seeddata.generate import generate
    from server.seeddata.summary import format_summary, summarise

    stats = generate(path, "city", seed)
    conn = open_reader(path)
    try:
        return format_summary(summarise(conn), seconds=stats.seconds, rows_per_second=stats.rows_per_second)
    finally:
        conn.close()


def _units(settings: Settings) -> list[tuple[str, str, str]]:
    conn = open_reader(settings.db_path)
    try:
        return [(str(r[0]), str(r[1]), str(r[2])) for r in conn.execute(
            "SELECT u.code, u.name, u.id FROM units u WHERE u.level IN ('township', 'department')"
            " AND EXISTS (SELECT 1 FROM retirees r WHERE r.unit_id = u.id) ORDER BY u.code")]
    finally:
        conn.close()


def _codes(settings: Settings, units: list[str], rng: random.Random) -> list[str]:
    conn = open_writer(settings.db_path, create=False)
    try:
        return [devices.create_code(conn, code, now=utc_now(), rng=rng) for code in units]
    finally:
        conn.close()


def unit_rows(conn: apsw.Connection, scope: set[str] | None, shared: set[str] | None = None
              ) -> dict[str, list[tuple[object, ...]]]:
    """Every synced row visible within ``scope`` (plus the ``shared_below`` rows of the units ``shared``
    above it), sorted: the thing that must converge. ``scope`` None: every row (what a tablet holds)."""
    above = shared or set()
    out: dict[str, list[tuple[object, ...]]] = {}
    for t in synced_tables():
        cols = ", ".join(f'"{c}"' for c in t.column_names())
        rows = conn.execute(f'SELECT {cols} FROM "{t.name}"').fetchall()
        if t.scope is not None and scope is not None:
            i = t.column_names().index(t.scope)
            rows = [r for r in rows if r[i] in scope or (t.shared_below and r[i] in above)]
        out[t.name] = sorted(tuple(r) for r in rows)
    return out


def converged(settings: Settings, tablet_db: Path) -> bool:
    tab = apsw.Connection(f"file:{tablet_db}?mode=ro", flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    central = open_reader(settings.db_path)
    try:
        unit_id = str(_one(tab, "SELECT value FROM sync_state WHERE key = 'unit_id'"))
        scope = set(devices.scope_units(central, unit_id))
        above = set(devices.ancestor_units(central, unit_id))
        # everything the tablet holds, so a row it should never have had would show too
        return unit_rows(tab, None) == unit_rows(central, scope, above)
    finally:
        tab.close()
        central.close()


def _resolve_all(url: str, settings: Settings, rng: random.Random) -> int:
    conn = open_central(settings.db_path, create=False)
    try:
        token = supervisors.add(conn, f"demo-{rng.randrange(10**6)}", now=utc_now(), rng=random.SystemRandom())
    finally:
        conn.close()
    auth = {"authorization": f"Bearer {token}"}
    done = 0
    with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
        for c in http.get("/v1/conflicts", params={"limit": 1000}).json()["conflicts"]:
            choice = "tablet" if c["provisional"] == "tablet" else "server"
            if http.post(f"/v1/conflicts/{c['id']}/resolve", json={"choice": choice}).status_code == 200:
                done += 1
    return done


def run_demo(data_dir: Path, *, seed: int = 2026, days: int = 30, echo: Echo = print) -> DemoResult:
    t0 = time.monotonic()
    settings = Settings().with_dir(data_dir)
    for stale in ("central.db", "central.db-wal", "central.db-shm", "keys", "tablets", "server.log", "city.db"):
        p = data_dir / stale
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    echo("0/5 生成市级服务数据库 generating the city profile (the seed's city) …")
    city_summary = build_city(data_dir / "city.db", seed=seed)
    echo("1/5 生成县级模拟数据 generating the county profile for the sync demo …")
    build_database(settings, seed=seed, echo=echo)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    echo(f"2/5 启动同步服务器 starting the sync server at {url} …")
    log = (data_dir / "server.log").open("ab")
    server = subprocess.Popen(_laogan("serve", "--port", str(port)), env=child_env(settings), stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        wait_ready(url, server)
        rng = random.Random(seed)
        units = _units(settings)
        # the second tablets of two townships first: loaded before anyone starts the month
        plan = [(code, name, 1) for code, name, _ in units[:2]] + [(code, name, 0) for code, name, _ in units]
        codes = _codes(settings, [p[0] for p in plan], rng)
        echo(f"3/5 {len(plan)} 台平板工作一个月 {len(plan)} tablets work a simulated month, concurrently …")
        t_sync = time.monotonic()
        tablets = _run_tablets(settings, url, plan, codes, days, seed)
        for d in tablets[:2]:  # the two offline tablets come back in reach: their month meets the others'
            subprocess.run(_laogan("tablet", "sync", "--dir", str(d)), env=child_env(settings), check=True,
                           capture_output=True)
        sync_seconds = time.monotonic() - t_sync
        echo("4/5 督导人员处理冲突和隔离 a supervisor resolves conflicts and a quarantined upload …")
        retried = _quarantine_round_trip(settings, tablets[2], rng)
        resolved = _resolve_all(url, settings, rng)
        for d in tablets:
            subprocess.run(_laogan("tablet", "sync", "--dir", str(d)), env=child_env(settings), check=True,
                           capture_output=True)
    finally:
        stop_process(server, grace_s=30)
        log.close()
    echo("5/5 检查一致性并验证账本 checking convergence and verifying the ledger …")
    ok = sum(converged(settings, d / "tablet.db") for d in tablets)
    keys = load_server_keys(settings)
    conn = open_central(settings.db_path, create=False)
    try:
        checkpoint(conn, keys.sign_key, utc_now())
        v = verify(conn, load_public_keys(settings.keys_dir)[0])
        uploads = _count(conn, "SELECT count(*) FROM uploads WHERE status != 'rejected'")
        rows = _count(conn, "SELECT count(*) FROM change_log c JOIN ledger l ON l.id = c.ledger_id"
                            " WHERE l.kind = 'upload'")
        conflicts = _count(conn, "SELECT count(*) FROM conflicts")
        quarantined = _count(conn, "SELECT count(*) FROM quarantine")
    finally:
        conn.close()
    audit_tokens = _audit_users(settings, rng)
    echo("报告网站 building the public report site …")
    from reports_site.build import build_site

    site = build_site(settings.db_path, data_dir / "site", as_of=None, progress=lambda _m: None)
    return DemoResult(len(tablets), uploads, rows, conflicts, resolved, quarantined, retried,
                      time.monotonic() - t0, sync_seconds, ok, v.ok, v.head_hash, city_summary, audit_tokens,
                      f"{site.site}/index.html ({site.units} unit pages, {site.period.month})")


def _quarantine_round_trip(settings: Settings, tablet: Path, rng: random.Random) -> int:
    """A tablet records a contact for a retiree the server has never heard of: quarantined. The
    office adds the retiree (a ledgered admin change) and retries the upload: applied."""
    env = child_env(settings)
    tab = apsw.Connection(f"file:{tablet / 'tablet.db'}?mode=ro", flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    try:
        unit_id = str(_one(tab, "SELECT value FROM sync_state WHERE key = 'unit_id'"))
    finally:
        tab.close()
    rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    cid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    subprocess.run(_laogan("tablet", "sql", "--dir", str(tablet),
                           "INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom, reached)"
                           f" VALUES ('{cid}', '{unit_id}', '{rid}', '2026-10-31', 'in_person', 'self', 1)"),
                   env=env, check=True, capture_output=True)
    subprocess.run(_laogan("tablet", "sync", "--dir", str(tablet)), env=env, check=True, capture_output=True)
    conn = open_writer(settings.db_path, create=False)
    try:
        qid = _count(conn, "SELECT max(id) FROM quarantine WHERE status = 'held'")
        if not qid:
            return 0
        with ledgered(conn, kind="admin", actor="demo:office", now=utc_now()) as tx:
            conn.execute(
                "INSERT INTO retirees (id, unit_id, name, sex, birth_date, id_number, category) VALUES (?,?,?,?,?,?,?)",
                (rid, unit_id, "新登记", "female", "1944-04-04", f"53032619440404{rng.randrange(10**3):03d}X", "general"))
            tx.summary = {"event": "retiree registered by the office", "retiree_id": rid}
    finally:
        conn.close()
    retried = subprocess.run(_laogan("quarantine", "retry", str(qid), "--by", "demo"), env=env, capture_output=True)
    return 1 if retried.returncode == 0 else 0


def _run_tablets(settings: Settings, url: str, plan: list[tuple[str, str, int]], codes: list[str], days: int,
                 seed: int) -> list[Path]:
    root = settings.data_dir / "tablets"
    dirs, procs = [], []
    for i, ((code, _name, k), enrol) in enumerate(zip(plan, codes, strict=True)):
        d = root / f"{code}-{k}"
        subprocess.run(_laogan("tablet", "init", "--dir", str(d), "--server", url, "--code", enrol,
                               "--label", f"{code}-{k}"), env=child_env(settings), check=True, capture_output=True)
        args = ["tablet", "simulate", "--dir", str(d), "--days", str(days), "--seed", str(seed * 1000 + i)]
        if code in {p[0] for p in plan if p[2] == 1}:
            args.append("--contest")  # two tablets correct the same person's phone …
            if k == 1:  # … one of them loaded in the office, then out of reach all month
                subprocess.run(_laogan("tablet", "sync", "--dir", str(d)), env=child_env(settings), check=True,
                               capture_output=True)
                args.append("--offline")
        procs.append(subprocess.Popen(_laogan(*args), env=child_env(settings), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE))
        dirs.append(d)
    for p, d in zip(procs, dirs, strict=True):
        out, err = p.communicate(timeout=1800)
        if p.returncode != 0:
            raise RuntimeError(f"tablet {d.name} failed: {err.decode(errors='replace')[-2000:]}")
        json.loads(out.decode().strip().splitlines()[-1])
    return dirs
