"""The append-only, hash-chained ledger, and the ledgered write transaction.

Every change to the central database happens inside :func:`ledgered`: it opens a write transaction,
captures the effect on the synced tables with an apsw session, and appends one ledger entry holding
that effect (a SQLite changeset) and committing to the previous entry's hash. Replaying the effects in
order rebuilds the synced tables; recomputing the hashes proves nothing was edited.

Entry hash = SHA-256 of the canonical JSON of
``[id, at, kind, actor, device_id, staff_id, summary, effect_sha256, prev_hash]``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import apsw

from schema.model import Table
from schema.tables import synced_tables, table

GENESIS_HASH = "0" * 64
LEDGERED_MACHINE_TABLES = ("devices", "enrol_codes", "conflicts", "quarantine")
"""Server tables whose changes are captured in ledger effects too, so a rebuild restores them."""


@cache
def ledgered_tables() -> tuple[str, ...]:
    """Every table whose changes a ledger entry's effect holds, in dependency order (the registry is
    fixed for the life of the process, so this is computed once)."""
    return tuple(t.name for t in synced_tables()) + tuple(table(n).name for n in LEDGERED_MACHINE_TABLES)


def iso(ts: datetime) -> str:
    """Timestamps are stored as 'YYYY-MM-DD HH:MM:SS' UTC."""
    return ts.strftime("%Y-%m-%d %H:%M:%S")


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(
    *, id: int, at: str, kind: str, actor: str, device_id: str | None, staff_id: str | None,
    summary: str | None, effect_sha256: str, prev_hash: str,
) -> str:
    payload = canonical([id, at, kind, actor, device_id, staff_id, summary, effect_sha256, prev_hash])
    return hashlib.sha256(payload.encode()).hexdigest()


class EffectNotExact(Exception):
    """An assumed effect (see :func:`ledgered`) is not a changeset SQLite can re-encode; the caller
    runs the write again with every table watched by the session."""


@dataclass
class LedgerTx:
    """What a ledgered transaction is writing; set ``summary`` before it ends."""

    ledger_id: int
    kind: str
    actor: str
    device_id: str | None
    staff_id: str | None
    at: str
    summary: dict[str, Any] = field(default_factory=dict)
    assumed_effect: bytes | None = None
    """The effect on the ``assumed`` tables of :func:`ledgered`, supplied by the body (see there)."""


def head(conn: apsw.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


_LOG_INSERT = "INSERT INTO main.change_log (tbl, row_id, unit_id, ledger_id, captured_at)"
_LOG_CTX = "(SELECT ledger_id FROM temp.ledger_ctx), (SELECT captured_at FROM temp.ledger_ctx)"


def _trigger_names(name: str) -> tuple[str, str, str]:
    return f"cl_{name}_i", f"cl_{name}_u", f"cl_{name}_d"


def _trigger_sql(t: Table) -> str:
    """The three ``change_log`` triggers of one synced table (insert, update, delete)."""
    scope_new = f"NEW.{t.scope}" if t.scope else "NULL"
    scope_old = f"OLD.{t.scope}" if t.scope else "NULL"
    ins, ctx = _LOG_INSERT, _LOG_CTX
    i, u, d = _trigger_names(t.name)
    return (
        f"CREATE TEMP TRIGGER IF NOT EXISTS {i} AFTER INSERT ON main.{t.name} BEGIN "
        f"{ins} VALUES ('{t.name}', NEW.id, {scope_new}, {ctx}); END;"
        f"CREATE TEMP TRIGGER IF NOT EXISTS {u} AFTER UPDATE ON main.{t.name} BEGIN "
        f"{ins} VALUES ('{t.name}', NEW.id, {scope_new}, {ctx}); "
        f"{ins} SELECT '{t.name}', OLD.id, {scope_old}, {ctx} WHERE {scope_old} IS NOT {scope_new}; END;"
        f"CREATE TEMP TRIGGER IF NOT EXISTS {d} AFTER DELETE ON main.{t.name} BEGIN "
        f"{ins} VALUES ('{t.name}', OLD.id, {scope_old}, {ctx}); END;"
    )


def install_capture(conn: apsw.Connection) -> None:
    """Temporary triggers that log every change of a synced table to ``change_log``.

    They read the ledger entry and capture time from ``temp.ledger_ctx``; only the writer connection
    has them, and every central write goes through the writer.
    """
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS ledger_ctx (ledger_id INTEGER, captured_at TEXT);"
        "DELETE FROM temp.ledger_ctx; INSERT INTO temp.ledger_ctx VALUES (NULL, NULL);"
    )
    for t in synced_tables():
        conn.execute(_trigger_sql(t))


def capture_is_exact(conn: apsw.Connection, tables: Iterable[str]) -> bool:
    """True when each of ``tables`` has exactly this module's three ``change_log`` triggers and no
    other trigger (main or temp): then :func:`log_changes` after a trigger-less write of those tables
    records exactly what the triggers would have."""
    names = sorted(set(tables))
    if not names:
        return True
    marks = ",".join("?" * len(names))
    found = conn.execute(
        f"SELECT name FROM sqlite_temp_master WHERE type = 'trigger' AND tbl_name IN ({marks})"
        f" UNION ALL SELECT name FROM main.sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})",
        (*names, *names),
    ).fetchall()
    return sorted(str(r[0]) for r in found) == sorted(n for name in names for n in _trigger_names(name))


@contextmanager
def capture_paused(conn: apsw.Connection, tables: Iterable[str]) -> Iterator[None]:
    """Drop the ``change_log`` triggers of ``tables`` for the block, then create them again.

    For bulk writes whose change_log rows the caller records itself with :func:`log_changes`: an
    AFTER trigger costs SQLite about as much per row as the row itself, even when it does nothing.
    Call inside a transaction (a SAVEPOINT the caller can roll back to): the drop and the create are
    transactional, so a rollback also restores the triggers.
    """
    ts = [table(n) for n in sorted(set(tables))]
    for t in ts:
        for name in _trigger_names(t.name):
            conn.execute(f"DROP TRIGGER temp.{name}")
    try:
        yield
    finally:
        for t in ts:
            conn.execute(_trigger_sql(t))


def log_changes(conn: apsw.Connection, rows: Sequence[tuple[str, str, Any]]) -> None:
    """Append ``(tbl, row_id, unit_id)`` rows to ``change_log`` exactly as the triggers do (ledger entry
    and capture time from ``temp.ledger_ctx``), in order."""
    conn.executemany(f"{_LOG_INSERT} VALUES (?, ?, ?, {_LOG_CTX})", rows)


@contextmanager
def ledgered(
    conn: apsw.Connection, *, kind: str, actor: str, now: datetime, device_id: str | None = None,
    staff_id: str | None = None, captured_at: datetime | None = None, assumed: frozenset[str] = frozenset(),
) -> Iterator[LedgerTx]:
    """A write transaction whose effect is appended to the ledger as one entry.

    The connection must have had :func:`install_capture` run on it. Raises whatever the body raises,
    after rolling everything back (no ledger entry then). Inside an open transaction (the writer's group
    commit) it is a SAVEPOINT: its rollback undoes only this block, and the caller commits.

    ``assumed``: tables the session does not watch, because the body knows their effect exactly and
    sets ``tx.assumed_effect`` to it — a changeset that applied cleanly is its own effect (an upload's
    fast path). The entry's effect is then that changeset followed by the session's capture of every
    other table; the body must not change ``assumed`` tables in any other way.
    """
    nested = conn.in_transaction
    conn.execute("SAVEPOINT ledgered" if nested else "BEGIN IMMEDIATE")
    try:
        last_id, prev_hash = head(conn)
        tx = LedgerTx(last_id + 1, kind, actor, device_id, staff_id, iso(now))
        conn.execute(
            "UPDATE temp.ledger_ctx SET ledger_id = ?, captured_at = ?",
            (tx.ledger_id, iso(captured_at or now)),
        )
        session = apsw.Session(conn, "main")
        for name in ledgered_tables():
            if name not in assumed:
                session.attach(name)
        try:
            yield tx
            effect = session.changeset()
        finally:
            session.close()
        if assumed:
            if tx.assumed_effect is None:
                raise RuntimeError("ledgered(assumed=...) ended without tx.assumed_effect")
            try:  # also re-encodes the tablet's bytes the way SQLite writes changesets
                effect = apsw.Changeset.concat(tx.assumed_effect, effect)
            except apsw.Error:
                raise EffectNotExact from None
        effect_sha = hashlib.sha256(effect).hexdigest()
        summary = canonical(tx.summary) if tx.summary else None
        h = entry_hash(
            id=tx.ledger_id, at=tx.at, kind=tx.kind, actor=tx.actor, device_id=tx.device_id,
            staff_id=tx.staff_id, summary=summary, effect_sha256=effect_sha, prev_hash=prev_hash,
        )
        conn.execute(
            "INSERT INTO ledger (id, at, kind, actor, device_id, staff_id, summary, effect, effect_sha256,"
            " prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (tx.ledger_id, tx.at, tx.kind, tx.actor, tx.device_id, tx.staff_id, summary,
             effect if effect else None, effect_sha, prev_hash, h),
        )
        conn.execute("UPDATE temp.ledger_ctx SET ledger_id = NULL, captured_at = NULL")
    except BaseException:
        if conn.in_transaction:  # SQLite may have ended it already (I/O error, full disk)
            conn.execute("ROLLBACK TO ledgered; RELEASE ledgered" if nested else "ROLLBACK")
        raise
    conn.execute("RELEASE ledgered" if nested else "COMMIT")
