"""Tablet writes through ``TabletStore.capture`` against raw apsw writes of the same rows.

One capture = what a staff member records at one home: a phone-contact row and a visit row, and at
every third home a change to the retiree's phone number (which also makes a roster-history row in the
store). Raw: the same statements in one ``BEGIN IMMEDIATE … COMMIT`` on a plain connection with the
same pragmas.
Both databases are tablet databases holding the same unit's retirees; captures alternate between
the two in blocks, so drift on a shared machine hits both alike.

Two variants: ``synchronous = FULL`` (what ``TabletStore.open`` sets: every capture is durable, the
physical limit is the WAL fsync) and ``synchronous = OFF`` (no fsync: what is left is CPU — the
recorder, the guard, roster history and the outbox row).

Where the difference goes is measured in the same blocks, on more plain connections (same pragmas,
same rows, same statements): raw plus the recorder (:mod:`sync.recorder`, which replaced an apsw session
per capture) on every uploadable table and its changeset;
plus the outbox row; plus the capture guard installed as an authorizer. What the store costs beyond
the last is roster history and its own bookkeeping. These only explain the ratio, they do not enter it.

The floor, measured in the same blocks: raw plus an outbox row holding the very changeset bytes the
store queued for that capture (made beforehand), with no recording at all. It is what any design that
queues each capture durably in its own transaction pays before it records anything: the target is
judged against raw, the floor says how much of it is left for recording, history and the store.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apsw

from schema.migrations import migrate
from schema.tables import table, uploadable_tables
from sync.guard import CaptureGuard
from sync.recorder import Recorder
from sync.store import TabletStore
from tests.bench.changesets import load_unit, units_by_size
from tests.bench.common import Ctx, Result, logged_db
from tests.conftest import uid

BLOCK = 50
LADDER = ("recorder", "outbox", "guard")
"""The reference variants, each adding one part of a capture to the one before (see the docstring)."""
_UPLOADABLE = tuple(t.name for t in uploadable_tables())
_OUTBOX = ("INSERT INTO outbox (seq, captured_at, changeset, status)"
           " VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM outbox), ?, ?, 'pending')")


def _insert_sql(name: str) -> str:
    cols = table(name).column_names()
    return f'INSERT INTO "{name}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})'


def _workload(db: Path, n: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(retiree rows to preload, per capture: (contact row, visit row, (phone, retiree id) or None))."""
    unit_id, _code, _ = units_by_size(db)[0]
    unit = load_unit(db, unit_id, ("retirees", "contacts", "visits"))
    rng = random.Random(5)
    retirees = unit.templates["retirees"]
    out = []
    for i in range(n):
        c = rng.choice(unit.templates["contacts"])
        v = rng.choice(unit.templates["visits"])
        r = retirees[i % len(retirees)]
        out.append(((uid(10_000_000 + i), *c[1:]), (uid(20_000_000 + i), *v[1:]),
                    (f"139{i:08d}", r[0]) if i % 3 == 0 else None))
    return retirees, out


def _open_raw(path: Path, sync: str) -> apsw.Connection:
    conn = apsw.Connection(str(path))
    conn.setbusytimeout(10_000)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {sync}")
    migrate(conn, "tablet")
    return conn


def _preload(conn: apsw.Connection, retirees: list[tuple[Any, ...]]) -> None:
    with conn:
        conn.executemany(_insert_sql("retirees"), retirees)


def _ladder_step(conn: apsw.Connection, guard: CaptureGuard | None, parts: int,
                 body: Any, cap: tuple[Any, ...], recorder: Recorder) -> None:
    """One capture's statements with the first ``parts`` parts of :data:`LADDER` added by hand."""
    if guard is not None:
        guard.mode = "internal"
    conn.execute("BEGIN IMMEDIATE")
    conn.preupdate_hook(recorder.hook)
    if guard is not None:
        guard.mode = "capture"
    body(conn, cap)
    changeset = recorder.take(conn, _UPLOADABLE)
    conn.preupdate_hook(None)
    if guard is not None:
        guard.mode = "internal"
    if parts >= 2:
        conn.execute(_OUTBOX, ("2026-11-01 08:00:00", changeset))
    conn.execute("COMMIT")


def _queued(work: Path, retirees: list[tuple[Any, ...]], caps: list[tuple[Any, ...]], body: Any) -> list[bytes]:
    """The changeset the store queues for each capture (made on a scratch store, untimed)."""
    now = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    store = TabletStore.open(work / "queued.db", now=lambda: now, rng=random.Random(1))
    try:
        store.conn.execute("PRAGMA synchronous = OFF")
        _preload(store.conn, retirees)
        for cap in caps:
            with store.capture(None) as conn:
                body(conn, cap)
        return [e.changeset for e in store.pending()]
    finally:
        store.close()


def measure(work: Path, retirees: list[tuple[Any, ...]], caps: list[tuple[Any, ...]],
            sync: str, ladder: bool = False) -> tuple[float, float, float, float, dict[str, float]]:
    """(raw wall s, store wall s, raw cpu s, store cpu s, variant -> wall s) for all captures: the
    floor always, the ladder (see the module docstring) only when asked for."""
    raw = _open_raw(work / f"raw-{sync}.db", sync)
    _preload(raw, retirees)
    floor = _open_raw(work / f"floor-{sync}.db", sync)
    _preload(floor, retirees)
    steps: list[tuple[str, apsw.Connection, CaptureGuard | None, Recorder]] = []
    for i, name in enumerate(LADDER if ladder else ()):
        conn = _open_raw(work / f"ladder-{name}-{sync}.db", sync)
        _preload(conn, retirees)
        guard = None
        if i >= 2:
            guard = CaptureGuard()
            conn.authorizer = guard
        columns = {t: tuple(str(r[1]) for r in conn.execute(f'PRAGMA table_info("{t}")')) for t in _UPLOADABLE}
        steps.append((name, conn, guard, Recorder.for_tables(_UPLOADABLE, columns.__getitem__,
                                                              lambda t: table(t).pk)))
    t_ladder = dict.fromkeys(("floor", *(LADDER if ladder else ())), 0.0)
    now = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    store = TabletStore.open(work / f"store-{sync}.db", now=lambda: now, rng=random.Random(1))
    store.conn.execute(f"PRAGMA synchronous = {sync}")
    _preload(store.conn, retirees)
    ins_c, ins_v = _insert_sql("contacts"), _insert_sql("visits")
    upd = "UPDATE retirees SET phone = ? WHERE id = ?"
    staff = None
    t_raw = t_store = c_raw = c_store = 0.0

    def body(conn: apsw.Connection, cap: tuple[Any, ...]) -> None:
        conn.execute(ins_c, cap[0])
        conn.execute(ins_v, cap[1])
        if cap[2] is not None:
            conn.execute(upd, cap[2])

    queued = _queued(work, retirees, caps, body)
    try:
        for start in range(0, len(caps), BLOCK):
            block = caps[start:start + BLOCK]
            c0, t0 = time.process_time(), time.perf_counter()
            for cap in block:
                raw.execute("BEGIN IMMEDIATE")
                body(raw, cap)
                raw.execute("COMMIT")
            t1, c1 = time.perf_counter(), time.process_time()
            for cap in block:
                with store.capture(staff) as conn:
                    body(conn, cap)
            t2, c2 = time.perf_counter(), time.process_time()
            t3 = time.perf_counter()
            for cap, changeset in zip(block, queued[start:start + BLOCK], strict=True):
                floor.execute("BEGIN IMMEDIATE")
                body(floor, cap)
                floor.execute(_OUTBOX, ("2026-11-01 08:00:00", changeset))
                floor.execute("COMMIT")
            t_ladder["floor"] += time.perf_counter() - t3
            t_raw += t1 - t0
            c_raw += c1 - c0
            t_store += t2 - t1
            c_store += c2 - c1
            for i, (name, conn, guard, recorder) in enumerate(steps):
                t3 = time.perf_counter()
                for cap in block:
                    _ladder_step(conn, guard, i + 1, body, cap, recorder)
                t_ladder[name] += time.perf_counter() - t3
        assert len(store.pending()) == len(caps)
    finally:
        raw.close()
        floor.close()
        store.close()
        for _, conn, _, _ in steps:
            conn.close()
    return t_raw, t_store, c_raw, c_store, t_ladder


def run(ctx: Ctx) -> list[Result]:
    n = 600 if ctx.quick else 3000
    db = logged_db(ctx, "county")
    retirees, caps = _workload(db, n)
    out = []
    for sync in ("FULL", "OFF"):
        work = ctx.scratch(f"tablet-{sync}")
        t_raw, t_store, c_raw, c_store, t_var = measure(work, retirees, caps, sync, ladder=sync == "OFF")
        ratio = t_store / t_raw
        cpu_ratio = c_store / c_raw
        t_floor = t_var.pop("floor")
        ctx.extra[f"tablet_{sync}"] = {"captures": n, "raw_s": round(t_raw, 3), "store_s": round(t_store, 3),
                                       "raw_cpu_s": round(c_raw, 3), "store_cpu_s": round(c_store, 3),
                                       "floor_s": round(t_floor, 3)}
        note = (f"{n} captures of 2-3 rows; {t_store / n * 1e3:.2f} vs {t_raw / n * 1e3:.2f} ms each; "
                f"CPU ratio {cpu_ratio:.2f}")
        if t_var:
            before, parts = t_raw, {}
            for name in LADDER:
                parts[name] = (t_var[name] - before) / n * 1e6
                before = t_var[name]
            parts["history+store"] = (t_store - before) / n * 1e6
            ctx.extra[f"tablet_{sync}"]["extra_us_per_capture"] = {k: round(v, 1) for k, v in parts.items()}
            note += "; extra µs per capture: " + ", ".join(f"{k} {v:.0f}" for k, v in parts.items())
        out.append(Result(
            f"tablet_writes_sync_{sync.lower()}", n / t_store, "captures/s", n / t_raw, "raw tx/s", ratio, "≤ 1.15×",
            ratio <= 1.15, note))
        left = (1.15 * t_raw - t_floor) / n * 1e6
        out.append(Result(
            f"tablet_queue_floor_sync_{sync.lower()}", n / t_floor, "tx/s", n / t_raw, "raw tx/s", t_floor / t_raw,
            "—", None, f"raw plus the outbox row alone (the same changeset bytes, no recording); "
                       f"{left:.0f} µs a capture left under 1.15× for recording, history and the store"))
    return out
