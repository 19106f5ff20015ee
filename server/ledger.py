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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import apsw

from schema.tables import synced_tables, table

GENESIS_HASH = "0" * 64
LEDGERED_MACHINE_TABLES = ("devices", "enrol_codes", "conflicts", "quarantine")
"""Server tables whose changes are captured in ledger effects too, so a rebuild restores them."""


def ledgered_tables() -> tuple[str, ...]:
    """Every table whose changes a ledger entry's effect holds, in dependency order."""
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


def head(conn: apsw.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


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
        scope_new = f"NEW.{t.scope}" if t.scope else "NULL"
        scope_old = f"OLD.{t.scope}" if t.scope else "NULL"
        ctx = "(SELECT ledger_id FROM temp.ledger_ctx), (SELECT captured_at FROM temp.ledger_ctx)"
        ins = "INSERT INTO main.change_log (tbl, row_id, unit_id, ledger_id, captured_at)"
        conn.execute(
            f"CREATE TEMP TRIGGER IF NOT EXISTS cl_{t.name}_i AFTER INSERT ON main.{t.name} BEGIN "
            f"{ins} VALUES ('{t.name}', NEW.id, {scope_new}, {ctx}); END;"
            f"CREATE TEMP TRIGGER IF NOT EXISTS cl_{t.name}_u AFTER UPDATE ON main.{t.name} BEGIN "
            f"{ins} VALUES ('{t.name}', NEW.id, {scope_new}, {ctx}); "
            f"{ins} SELECT '{t.name}', OLD.id, {scope_old}, {ctx} WHERE {scope_old} IS NOT {scope_new}; END;"
            f"CREATE TEMP TRIGGER IF NOT EXISTS cl_{t.name}_d AFTER DELETE ON main.{t.name} BEGIN "
            f"{ins} VALUES ('{t.name}', OLD.id, {scope_old}, {ctx}); END;"
        )


@contextmanager
def ledgered(
    conn: apsw.Connection, *, kind: str, actor: str, now: datetime, device_id: str | None = None,
    staff_id: str | None = None, captured_at: datetime | None = None,
) -> Iterator[LedgerTx]:
    """A write transaction whose effect is appended to the ledger as one entry.

    The connection must have had :func:`install_capture` run on it. Raises whatever the body raises,
    after rolling everything back (no ledger entry then).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        last_id, prev_hash = head(conn)
        tx = LedgerTx(last_id + 1, kind, actor, device_id, staff_id, iso(now))
        conn.execute(
            "UPDATE temp.ledger_ctx SET ledger_id = ?, captured_at = ?",
            (tx.ledger_id, iso(captured_at or now)),
        )
        session = apsw.Session(conn, "main")
        for name in ledgered_tables():
            session.attach(name)
        try:
            yield tx
            effect = session.changeset()
        finally:
            session.close()
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
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
