"""The append-only, hash-chained ledger, and the ledgered write transaction.

Every change to the central database happens inside :func:`ledgered`: it opens a write transaction,
captures the effect on the synced tables with an apsw session, logs the changed rows to
``change_log`` (what pulls and provenance read) from that effect, and appends one ledger entry holding
the effect (a SQLite changeset) and committing to the previous entry's hash. Replaying the effects in
order rebuilds the synced tables; recomputing the hashes proves nothing was edited.

Entry hash = SHA-256 of the canonical JSON of
``[id, at, kind, actor, device_id, staff_id, summary, effect_sha256, prev_hash]``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import apsw

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
    assumed_log: Sequence[tuple[str, str, Any]] | None = None
    """The change_log rows of ``assumed_effect``, in order."""
    touched: list[tuple[str, str]] = field(default_factory=list)
    """(table, row id) to log even when unchanged (see :meth:`touch`)."""
    _finish: Callable[[], bytes] | None = field(default=None, repr=False)
    _effect: bytes | None = field(default=None, repr=False)

    def touch(self, tbl: str, row_id: str) -> None:
        """Send this row to its unit's tablets on their next pull even if this transaction leaves it
        as it was (a conflict resolution that confirms the provisional winner)."""
        self.touched.append((tbl, row_id))

    def finish_effect(self) -> bytes:
        """Capture the effect now and write its ``change_log`` rows (so ``max(seq)`` includes them).
        The body must not change ledgered tables after this; it may still write others (``uploads``)."""
        if self._effect is None:
            assert self._finish is not None
            self._effect = self._finish()
        return self._effect


def head(conn: apsw.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


_LOG_INSERT = ("INSERT INTO main.change_log (tbl, row_id, unit_id, ledger_id, captured_at)"
               " VALUES (?, ?, ?, ?, ?)")
LogRow = tuple[str, str, Any]
"""A ``change_log`` entry before numbering: (table, row id, unit)."""


@cache
def _logged() -> dict[str, tuple[int, str]]:
    """Synced table -> (index of its unit column or -1, the statement reading a row's unit)."""
    return {t.name: (t.column_names().index(t.scope) if t.scope else -1,
                     f'SELECT "{t.scope}" FROM main."{t.name}" WHERE "{t.pk}" = ?') for t in synced_tables()}


def effect_log(conn: apsw.Connection, effect: bytes) -> list[LogRow]:
    """The ``change_log`` rows of an effect: one per changed row of a synced table, with its unit —
    for a row that moved between units, the unit after and then the unit before (so tablets of both
    hear of it). An update that leaves the unit alone does not carry it: it is read from the row."""
    logged = _logged()
    no_change = apsw.no_change
    rows: list[LogRow] = []
    for ch in apsw.Changeset.iter(effect):
        spec = logged.get(ch.name)
        if spec is None:
            continue
        si, read_unit = spec
        pk = min(ch.pk_columns, default=0)
        if ch.op == "INSERT":
            new = ch.new
            assert new is not None
            rows.append((ch.name, str(new[pk]), new[si] if si >= 0 else None))
        elif ch.op == "DELETE":
            old = ch.old
            assert old is not None
            rows.append((ch.name, str(old[pk]), old[si] if si >= 0 else None))
        else:
            old, new = ch.old, ch.new
            assert old is not None and new is not None
            key = str(old[pk])
            if si < 0:
                rows.append((ch.name, key, None))
                continue
            after, before = new[si], old[si]
            if after is no_change:
                got = conn.execute(read_unit, (old[pk],)).fetchone()
                rows.append((ch.name, key, got[0] if got else None))
            else:
                rows.append((ch.name, key, after))
                if before is not no_change and before != after:
                    rows.append((ch.name, key, before))
    return rows


def _touched_log(conn: apsw.Connection, touched: Iterable[tuple[str, str]], logged: set[tuple[str, str]]) -> list[LogRow]:
    """Log rows for touched rows not already logged, with their current unit (a row that is gone is
    left out: its deletion is in the effect, so already logged)."""
    out: list[LogRow] = []
    specs = _logged()
    for tbl, row_id in touched:
        spec = specs.get(tbl)
        if spec is None or (tbl, row_id) in logged:
            continue
        got = conn.execute(spec[1], (row_id,)).fetchone() if spec[0] >= 0 else (None,)
        if got is not None:
            out.append((tbl, row_id, got[0]))
            logged.add((tbl, row_id))
    return out


@cache
def _table_order() -> dict[str, int]:
    return {t.name: i for i, t in enumerate(synced_tables())}


def _log_order(row: LogRow) -> tuple[int, str]:
    """Where a row goes among one entry's ``change_log`` rows: tables in registry order, then row ids —
    the same whichever way the upload was applied and whatever order its changeset listed the rows in
    (a session lists a table's rows by its own hash, the tablet's recorder by first touch)."""
    return _table_order().get(row[0], 1 << 30), row[1]


def log_changes(conn: apsw.Connection, rows: Sequence[LogRow], *, ledger_id: int, captured_at: str) -> None:
    """Append ``change_log`` rows, in order, for ledger entry ``ledger_id``."""
    conn.executemany(_LOG_INSERT, ((t, r, u, ledger_id, captured_at) for t, r, u in rows))


def no_triggers(conn: apsw.Connection, tables: Iterable[str]) -> bool:
    """True when none of ``tables`` has a trigger (main or temp): then a clean apply of a changeset
    to them changes exactly the rows it names, and the changeset is its own effect."""
    names = sorted(set(tables))
    if not names:
        return True
    marks = ",".join("?" * len(names))
    found = conn.execute(
        f"SELECT 1 FROM sqlite_temp_master WHERE type = 'trigger' AND tbl_name IN ({marks})"
        f" UNION ALL SELECT 1 FROM main.sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks}) LIMIT 1",
        (*names, *names),
    ).fetchone()
    return found is None


@contextmanager
def ledgered(
    conn: apsw.Connection, *, kind: str, actor: str, now: datetime, device_id: str | None = None,
    staff_id: str | None = None, captured_at: datetime | None = None,
    assumed: Callable[[], frozenset[str]] | None = None,
) -> Iterator[LedgerTx]:
    """A write transaction whose effect is appended to the ledger as one entry.

    An apsw session captures the effect on every ledgered table; at the end (or at
    :meth:`LedgerTx.finish_effect`) the effect's synced rows go to ``change_log`` (see
    :func:`effect_log`) — no triggers: an AFTER trigger costs SQLite about as much per row as the row.
    Raises whatever the body raises, after rolling everything back (no ledger entry then). Inside an
    open transaction (the writer's group commit) it is a SAVEPOINT: its rollback undoes only this
    block, and the caller commits.

    ``assumed``: tables the session does not watch, because the body knows their effect exactly and
    sets ``tx.assumed_effect`` to it, with ``tx.assumed_log`` its change_log rows — a changeset that
    applied cleanly to tables without triggers is its own effect (an upload's fast path). The entry's
    effect is then that changeset followed by the session's capture of every other table; the body
    must not change ``assumed`` tables in any other way. ``assumed`` is called once the transaction has
    begun (so what it reads to decide cannot change before the writes) and returns those tables.
    """
    nested = conn.in_transaction
    conn.execute("SAVEPOINT ledgered" if nested else "BEGIN IMMEDIATE")
    try:
        last_id, prev_hash = head(conn)
        tx = LedgerTx(last_id + 1, kind, actor, device_id, staff_id, iso(now))
        logged_at = iso(captured_at or now)
        unwatched = assumed() if assumed is not None else frozenset()
        session = apsw.Session(conn, "main")
        for name in ledgered_tables():
            if name not in unwatched:
                session.attach(name)

        def finish() -> bytes:
            watched = session.changeset()
            session.close()
            rows = effect_log(conn, watched) if watched else []
            effect = watched
            if unwatched:
                if tx.assumed_effect is None or tx.assumed_log is None:
                    raise RuntimeError("ledgered(assumed=...) ended without tx.assumed_effect and assumed_log")
                try:  # also re-encodes the tablet's bytes the way SQLite writes changesets
                    effect = apsw.Changeset.concat(tx.assumed_effect, watched)
                except apsw.Error:
                    raise EffectNotExact from None
                rows = [*tx.assumed_log, *rows]
            if tx.touched:
                rows += _touched_log(conn, tx.touched, {(t, r) for t, r, _ in rows})
            rows.sort(key=_log_order)  # stable: a moved row's two entries keep their order
            log_changes(conn, rows, ledger_id=tx.ledger_id, captured_at=logged_at)
            return effect

        tx._finish = finish
        try:
            yield tx
            effect = tx.finish_effect()
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
    except BaseException:
        if conn.in_transaction:  # SQLite may have ended it already (I/O error, full disk)
            conn.execute("ROLLBACK TO ledgered; RELEASE ledgered" if nested else "ROLLBACK")
        raise
    conn.execute("RELEASE ledgered" if nested else "COMMIT")
