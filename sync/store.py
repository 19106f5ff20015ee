"""``TabletStore``: the tablet's database — captured transactions, the outbox, pulls and sync state.

Every local edit goes through :meth:`TabletStore.capture`: one ``BEGIN IMMEDIATE`` transaction with
an apsw session on every uploadable table and a guard (:mod:`sync.guard`) refusing writes the tablet
may not make.  When the block ends, roster history is derived from the session and inserted (so it is
captured too), the session's changeset is appended to ``outbox`` with the next sequence number, and
the transaction commits — the data and its outbox row become durable together or not at all.

Pulled changes are applied by :meth:`TabletStore.apply_pull` with no session attached (they are not
uploaded again), only when the outbox holds nothing unsent, together with the new cursor.

The clock (``now``) and the randomness behind new ids (``rng``) are injected; nothing here reads the
wall clock or the network.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import apsw

from schema.migrations import current_version, migrate
from schema.tables import uploadable_tables
from sync import history
from sync.changesets import check_pull, check_upload, pull_conflict
from sync.clock import Clock, iso
from sync.errors import BadStaffId, CaptureActive, OutboxError, PendingChanges, PullApplyError
from sync.guard import CaptureGuard
from sync.state import CURSOR, LAST_SYNC_AT, STATE_KEYS, Enrolment, Status

BUSY_TIMEOUT_MS = 10_000
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_OUTBOX_COLUMNS = "seq, captured_at, changeset, envelope, status, sent_at, receipt"
_UPLOADABLE = tuple(t.name for t in uploadable_tables())
_HISTORY_TABLES = tuple(n for n in _UPLOADABLE if n in history.HISTORY_SOURCES)
"""The history tables in the capture session's order, so derived history comes out in the same order."""


@dataclass(frozen=True)
class OutboxEntry:
    """One captured transaction waiting for (or done with) upload."""

    seq: int
    captured_at: str
    changeset: bytes
    envelope: bytes | None
    """The sealed bytes, once sealed; every retry sends exactly these."""
    status: str
    sent_at: str | None
    receipt: str | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> OutboxEntry:
        seq, captured_at, changeset, envelope, status, sent_at, receipt = row
        return cls(int(seq), str(captured_at), bytes(changeset), None if envelope is None else bytes(envelope),
                   str(status), sent_at, receipt)


class TabletStore:
    """The tablet database (see the module docstring). One store per connection, one thread."""

    def __init__(self, conn: apsw.Connection, *, now: Clock, rng: random.Random) -> None:
        self._conn = conn
        self._now = now
        self._rng = rng
        self._guard = CaptureGuard()
        self._columns: dict[str, tuple[str, ...]] = {}

    @classmethod
    def open(cls, path: Path | str, *, now: Clock, rng: random.Random) -> TabletStore:
        """Open (creating and migrating as needed) the tablet database file at ``path``."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        conn = apsw.Connection(str(p))
        conn.setbusytimeout(BUSY_TIMEOUT_MS)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        migrate(conn, "tablet")
        return cls(conn, now=now, rng=rng)

    @property
    def conn(self) -> apsw.Connection:
        """The underlying connection (for reads and set-up; edits belong in :meth:`capture`)."""
        return self._conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> TabletStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- ids, schema ---------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh lower-case UUID4 for a new row, drawn from the injected ``rng``."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def schema_version(self) -> int:
        return current_version(self._conn)

    def columns(self, table: str) -> tuple[str, ...]:
        """Column names of ``table`` in this database, in order (empty if there is no such table)."""
        cached = self._columns.get(table)
        if cached is None:
            rows = self._conn.execute("SELECT name FROM pragma_table_info(?)", (table,)).fetchall()
            cached = tuple(str(r[0]) for r in rows)
            self._columns[table] = cached
        return cached

    # -- capture -------------------------------------------------------------------------------

    @contextmanager
    def capture(self, staff_id: str | None = None) -> Iterator[apsw.Connection]:
        """A captured write transaction: yields the connection; on success the changes, their roster
        history and their outbox row commit together; on any exception everything rolls back."""
        if staff_id is not None and not _UUID.fullmatch(staff_id):
            raise BadStaffId(f"工作人员编号格式错误 (staff id must be a lower-case UUID: {staff_id!r})")
        conn = self._conn
        if not conn.getautocommit():
            raise CaptureActive("已有未结束的事务 (a transaction is already open on this connection)")
        conn.execute("BEGIN IMMEDIATE")
        session: apsw.Session | None = None
        watch: apsw.Session | None = None
        try:
            session = apsw.Session(conn, "main")
            for name in _UPLOADABLE:
                session.attach(name)
            # A second session on the history tables alone: most captures never touch them, and
            # then no changeset is made twice (each one costs a prepared SELECT per changed table).
            watch = apsw.Session(conn, "main")
            for name in _HISTORY_TABLES:
                watch.attach(name)
            conn.authorizer = self._guard
            try:
                yield conn
            finally:
                conn.authorizer = None
            self._record_history(watch, staff_id)
            watch.close()
            watch = None
            changeset = session.changeset()
            session.close()
            session = None
            if changeset:
                self._append_outbox(changeset)
            conn.execute("COMMIT")
        except BaseException:
            for s in (watch, session):
                if s is not None:
                    s.close()
            if not conn.getautocommit():
                conn.execute("ROLLBACK")
            raise

    def _record_history(self, watch: apsw.Session, staff_id: str | None) -> None:
        """Roster history from ``watch``, a session on the history tables only (it records exactly
        what the capture's own session records for them, so :func:`history.derive` sees the same)."""
        if watch.is_empty:
            return
        rows = history.derive(self._conn, watch.changeset(), self.columns)
        if not rows:
            return
        changed_at = iso(self._now())
        for r in rows:
            self._conn.execute(
                "INSERT INTO roster_history (id, unit_id, retiree_id, field, old_value, new_value,"
                " changed_at, changed_by) VALUES (?,?,?,?,?,?,?,?)",
                (self.new_id(), r.unit_id, r.retiree_id, r.field, r.old_value, r.new_value, changed_at,
                 staff_id),
            )

    def _append_outbox(self, changeset: bytes) -> int:
        row = self._conn.execute(
            "INSERT INTO outbox (seq, captured_at, changeset, status)"
            " VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM outbox), ?, ?, 'pending') RETURNING seq",
            (iso(self._now()), changeset),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def push_raw_changeset(self, data: bytes) -> int:
        """Queue a changeset made elsewhere (any SQLite, e.g. the shell's ``.session``) for upload as
        the next sequence number, after checking it; returns that number. Not applied locally: the
        server's result comes back with the next pull."""
        data = bytes(data)
        check_upload(data, self.columns)
        with self._write():
            return self._append_outbox(data)

    # -- outbox --------------------------------------------------------------------------------

    def pending(self) -> list[OutboxEntry]:
        """Outbox rows not yet accepted by the server, in sequence order."""
        rows = self._conn.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE status = 'pending' ORDER BY seq"
        ).fetchall()
        return [OutboxEntry.from_row(r) for r in rows]

    def outbox(self) -> list[OutboxEntry]:
        """Every outbox row, sent or not, in sequence order."""
        rows = self._conn.execute(f"SELECT {_OUTBOX_COLUMNS} FROM outbox ORDER BY seq").fetchall()
        return [OutboxEntry.from_row(r) for r in rows]

    def save_envelope(self, seq: int, envelope: bytes) -> bytes:
        """Keep the sealed bytes of pending row ``seq`` (before the first send) and return the bytes
        to send: if an envelope was saved already (a retry, another process) those are kept and
        returned, so one sequence number only ever goes out as one byte string."""
        with self._write():
            self._conn.execute(
                "UPDATE outbox SET envelope = ? WHERE seq = ? AND status = 'pending' AND envelope IS NULL",
                (bytes(envelope), seq),
            )
            row = self._conn.execute(
                "SELECT envelope FROM outbox WHERE seq = ? AND status = 'pending'", (seq,)
            ).fetchone()
        if row is None or row[0] is None:
            raise OutboxError(f"没有待发送的序号 {seq} (no pending outbox row {seq})")
        return bytes(row[0])

    def mark_sent(self, seq: int, receipt_json: str, now: datetime | None = None) -> None:
        """Record the server's receipt for pending row ``seq`` (``now``: a datetime, default the clock)."""
        sent_at = iso(self._now() if now is None else now)
        try:
            with self._write():
                self._conn.execute(
                    "UPDATE outbox SET status = 'sent', sent_at = ?, receipt = ? WHERE seq = ? AND status = 'pending'",
                    (sent_at, receipt_json, seq),
                )
                changed = self._conn.changes()
        except apsw.ConstraintError as exc:
            raise OutboxError(f"回执无法保存 (receipt for {seq} not stored: {exc})") from None
        if changed != 1:
            raise OutboxError(f"没有待发送的序号 {seq} (no pending outbox row {seq})")

    # -- pull ----------------------------------------------------------------------------------

    def apply_pull(self, changeset: bytes, cursor: int) -> int:
        """Apply a pulled changeset (the server's rows win) and store ``cursor``, in one transaction.
        Refuses with :class:`PendingChanges` while the outbox holds unsent rows. Returns the number
        of changes in the changeset."""
        changeset = bytes(changeset)
        count = check_pull(changeset, self.columns)
        with self._write():
            pending = self._pending_count()
            if pending:
                raise PendingChanges(pending)
            have = self._cursor()
            if cursor < have:
                raise PullApplyError(f"拉取游标倒退 (pull cursor went back from {have} to {cursor})")
            if changeset:
                try:
                    apsw.Changeset.apply(changeset, self._conn, conflict=pull_conflict)
                except apsw.Error as exc:
                    raise PullApplyError(f"拉取的变更无法应用 (pulled changes not applied: {exc})") from None
            self._set_state({CURSOR: str(cursor), LAST_SYNC_AT: iso(self._now())})
        return count

    # -- sync state ----------------------------------------------------------------------------

    def state(self) -> dict[str, str | None]:
        """Every ``sync_state`` key (absent keys as None)."""
        rows = {str(k): None if v is None else str(v)
                for k, v in self._conn.execute("SELECT key, value FROM sync_state").fetchall()}
        return {k: rows.get(k) for k in STATE_KEYS}

    def set_state(self, values: Mapping[str, str | None]) -> None:
        """Set ``sync_state`` keys in one transaction (only the keys of :data:`sync.state.STATE_KEYS`)."""
        with self._write():
            self._set_state(values)

    def enrolment(self) -> Enrolment:
        """The enrolment record; raises :class:`sync.errors.NotEnrolled` before ``init``."""
        return Enrolment.from_state(self.state())

    def status(self) -> Status:
        s = self.state()
        counts = {str(k): int(str(n)) for k, n in
                  self._conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()}
        return Status(
            device_id=s["device_id"], unit_id=s["unit_id"], server_url=s["server_url"],
            pending=int(counts.get("pending", 0)), sent=int(counts.get("sent", 0)), cursor=self._cursor(),
            last_sync_at=s["last_sync_at"], schema_version=self.schema_version(),
        )

    def _set_state(self, values: Mapping[str, str | None]) -> None:
        unknown = sorted(set(values) - set(STATE_KEYS))
        if unknown:
            raise ValueError(f"unknown sync_state keys: {', '.join(unknown)}")
        for key, value in values.items():
            self._conn.execute(
                "INSERT INTO sync_state (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def cursor(self) -> int:
        """The pull cursor: the server change sequence this tablet has applied up to."""
        return self._cursor()

    def _cursor(self) -> int:
        row = self._conn.execute("SELECT value FROM sync_state WHERE key = ?", (CURSOR,)).fetchone()
        return 0 if row is None or row[0] is None else int(row[0])

    def _pending_count(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()
        return 0 if row is None else int(row[0])

    @contextmanager
    def _write(self) -> Iterator[None]:
        conn = self._conn
        if not conn.getautocommit():
            raise CaptureActive("已有未结束的事务 (a transaction is already open on this connection)")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
