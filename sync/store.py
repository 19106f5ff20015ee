"""``TabletStore``: the tablet's database — captured transactions, the outbox, pulls and sync state.

Every local edit goes through :meth:`TabletStore.capture`: one ``BEGIN IMMEDIATE`` transaction with a
recorder (:mod:`sync.recorder`: a preupdate hook noting every row of an uploadable table the capture
touches, which then yields their net change in the session changeset format, as an apsw session would
but without its per-changeset set-up) and a guard (:mod:`sync.guard`) refusing writes the tablet may
not make.  When the block ends, roster history is derived from the changeset so far (the UPDATEs the recorder
lists as it encodes them) and inserted (so it is captured too), the changeset is appended to ``outbox``
with the next sequence number, and the transaction commits — the data and its outbox row become durable
together or not at all.

Captures are cheap to repeat: the guard stays installed (switched by a mode, not re-installed, which
would re-prepare every cached statement); the store's own statements never pass it as a caller's could.

Pulled changes are applied by :meth:`TabletStore.apply_pull` with no recorder (they are not uploaded
again), only when the outbox holds nothing unsent, together with the new cursor.

The clock (``now``) and the randomness behind new ids (``rng``) are injected; nothing here reads the
wall clock or the network.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import apsw

from schema.ids import time_ordered_id
from schema.migrations import current_version, migrate
from schema.row_rules import ROW_RULE_TABLES
from schema.tables import table, uploadable_tables
from sync import history
from sync.changesets import check_pull, check_upload, pull_conflict
from sync.clock import Clock, iso
from sync.errors import (
    BadStaffId,
    CaptureActive,
    OutboxError,
    PendingChanges,
    PullApplyError,
    RecordingFailed,
)
from sync.guard import CaptureGuard
from sync.recorder import Recorder, Update
from sync.references import refuse_broken_references
from sync.shared import SHARED_TABLES, refuse_foreign_shared_rows
from sync.state import CURSOR, CURSOR_MARK, LAST_SYNC_AT, STATE_KEYS, UNIT_ID, Enrolment, OutboxEntry, Status
from sync.upgrade import restart_pulls_across_shape_changes

BUSY_TIMEOUT_MS = 10_000
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_OUTBOX_COLUMNS = "seq, captured_at, changeset, envelope, status, sent_at, receipt"
_OUTBOX_INSERT = (
    f"INSERT /* outbox {secrets.token_hex(8)} */ INTO outbox (seq, captured_at, changeset, status)"
    " VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM outbox), ?, ?, 'pending')"
)
"""The outbox row with the next sequence number, prepared past the guard (mode ``internal``) and kept
in the statement cache: the random label makes it a text no caller's statement has, so no statement
run inside a capture can be this one."""
_LABEL = f" /* store {secrets.token_hex(8)} */"
"""Appended to the store's own transaction-control statements: with it they stay in apsw's statement
cache (not prepared anew twice per capture) under a text no caller's statement has, as
:data:`_OUTBOX_INSERT`."""
_HISTORY_INSERT = (
    "INSERT INTO roster_history (id, unit_id, retiree_id, field, old_value, new_value, changed_at, changed_by)"
    " VALUES (?,?,?,?,?,?,?,?)"
)
_UPLOADABLE = tuple(t.name for t in uploadable_tables())
_SPLIT = _UPLOADABLE.index(history.HISTORY_TABLE)
_BEFORE_HISTORY, _FROM_HISTORY = _UPLOADABLE[:_SPLIT], _UPLOADABLE[_SPLIT:]
"""A capture's changeset is taken in two parts, in registry order: the tables before ``roster_history``
(among them every history source, so the history is derived from this part before the history rows
are written), then ``roster_history`` and the tables after it. A changeset is a plain sequence of
per-table blocks, so the two parts concatenated are one changeset of every uploadable table in order."""
if not all(n in _BEFORE_HISTORY for n in history.HISTORY_SOURCES):  # pragma: no cover - registry order
    raise RuntimeError("history sources must come before roster_history in the table registry")


def _stamp(ts: datetime) -> str:
    """:func:`sync.clock.iso` of ``ts`` without ``strftime`` (9 µs a call against 1 µs): ``isoformat`` of the
    naive UTC time, truncated to whole seconds as ``%S`` is; the same text for every year from 1000."""
    tz = ts.tzinfo
    u = ts if tz is None else ts.replace(tzinfo=None) if tz is UTC else ts.astimezone(UTC).replace(tzinfo=None)
    if u.year < 1000:  # strftime does not pad %Y on every platform: leave those to it
        return iso(ts)
    return u.isoformat(" ", "seconds")


class _Capture:
    """What :meth:`TabletStore.capture` returns (a class, not a generator: cheaper on a hot path)."""

    __slots__ = ("_staff_id", "_store")

    def __init__(self, store: TabletStore, staff_id: str | None) -> None:
        self._store = store
        self._staff_id = staff_id

    def __enter__(self) -> apsw.Connection:
        self._store._begin_capture(self._staff_id)
        return self._store.conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self._store._end_capture(self._staff_id)
        else:
            self._store._abort_capture()


class TabletStore:
    """The tablet database (see the module docstring). One store per connection, one thread."""

    def __init__(self, conn: apsw.Connection, *, now: Clock, rng: random.Random) -> None:
        self._conn = conn
        self._now = now
        self._rng = rng
        self._guard = CaptureGuard()
        self._columns: dict[str, tuple[str, ...]] = {}
        self._recorder = Recorder.for_tables([n for n in _UPLOADABLE if self.columns(n)],  # (tables it has)
                                             self.columns, lambda name: table(name).pk)

    @classmethod
    def open(cls, path: Path | str, *, now: Clock, rng: random.Random) -> TabletStore:
        """Open (creating and migrating as needed) the tablet database file at ``path``."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        conn = apsw.Connection(str(p))
        conn.setbusytimeout(BUSY_TIMEOUT_MS)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        restart_pulls_across_shape_changes(conn)
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
        """A fresh id for a new row: a time-ordered UUID (:func:`schema.ids.time_ordered_id`) from the
        injected clock and ``rng``."""
        return time_ordered_id(self._now(), self._rng.getrandbits)

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

    def capture(self, staff_id: str | None = None) -> AbstractContextManager[apsw.Connection]:
        """A captured write transaction: ``with store.capture(staff_id) as conn:``; on success the changes,
        their roster history and their outbox row commit together; on any exception all rolls back."""
        return _Capture(self, staff_id)

    def _begin_capture(self, staff_id: str | None) -> None:
        """Open a capture (see :class:`_Capture`): the transaction, the guard, the recorder's hook."""
        if staff_id is not None and not _UUID.fullmatch(staff_id):
            raise BadStaffId(f"工作人员编号格式错误 (staff id must be a lower-case UUID: {staff_id!r})")
        conn = self._conn
        if not conn.getautocommit():
            raise CaptureActive("已有未结束的事务 (a transaction is already open on this connection)")
        guard = self._guard
        if guard.dirty or conn.authorizer is not guard:
            # (Re-)installing the authorizer expires every prepared statement: whatever was prepared
            # unchecked is prepared again, through the guard, before it next runs.
            conn.authorizer = guard
            guard.dirty = False
        try:
            self._control("BEGIN IMMEDIATE")
            conn.preupdate_hook(self._recorder.hook)
        except BaseException:
            self._abort_capture()
            raise
        guard.mode = "capture"

    def _end_capture(self, staff_id: str | None) -> None:
        """Finish a capture whose block succeeded: history, outbox row, COMMIT."""
        conn = self._conn
        recorder = self._recorder
        try:
            # Still guarded: the history rows and the recorder's reads pass the checks.
            if recorder.failure is not None:
                raise RecordingFailed(recorder.failure)
            if shared := recorder.touched_among(SHARED_TABLES):
                refuse_foreign_shared_rows(conn, recorder, self.state().get(UNIT_ID), shared)
            if linked := recorder.touched_among(ROW_RULE_TABLES):  # rules between rows (sync.references)
                refuse_broken_references(conn, recorder, linked)
            updates: list[Update] = []
            head = self._take(_BEFORE_HISTORY, updates)
            captured_at = self._record_history(updates, staff_id)
            changeset = head + self._take(_FROM_HISTORY)
            conn.preupdate_hook(None)
            if recorder.failure is not None:  # from the history rows
                raise RecordingFailed(recorder.failure)
            if changeset:
                self._append_outbox(changeset, captured_at)
            self._control("COMMIT")
        except BaseException:
            self._abort_capture()
            raise
        self._guard.mode = "open"

    def _take(self, names: tuple[str, ...], updates: list[Update] | None = None) -> bytes:
        """The recorder's changeset of ``names`` (its UPDATEs also listed in ``updates``, if given); a row
        it cannot read back (e.g. TEXT that is not UTF-8) refuses the capture rather than leaving the
        change out of the outbox."""
        try:
            return self._recorder.take(self._conn, names, updates)
        except Exception as exc:
            raise RecordingFailed(exc) from exc

    def _abort_capture(self) -> None:
        """Roll a capture back (its block or its ending raised)."""
        try:
            self._conn.preupdate_hook(None)
            self._recorder.clear()
            if not self._conn.getautocommit():
                self._control("ROLLBACK")
        finally:
            self._guard.mode = "open"

    def _control(self, sql: str) -> None:
        """Run one of the store's own transaction-control statements past the guard, under a label (see
        :data:`_LABEL`) so that no caller's statement can be this cached one."""
        guard = self._guard
        mode = guard.mode
        guard.mode = "internal"
        try:
            self._conn.execute(sql + _LABEL)
        finally:
            guard.mode = mode

    def _record_history(self, updates: list[Update], staff_id: str | None) -> str | None:
        """Insert the roster history of ``updates``, the UPDATEs of the capture's changeset of the tables
        before ``roster_history`` (the history sources among them). Returns the capture time it stamped
        on the rows, if it wrote any."""
        if not updates:
            return None
        rows = history.from_updates(updates, self.columns)
        if not rows:
            return None
        changed_at = _stamp(self._now())
        new_id = self.new_id
        execute = self._conn.execute
        for r in rows:
            execute(_HISTORY_INSERT, (new_id(), r.unit_id, r.retiree_id, r.field, r.old_value, r.new_value,
                                      changed_at, staff_id))
        return changed_at

    def _append_outbox(self, changeset: bytes, captured_at: str | None = None) -> int:
        """Insert the outbox row with the next sequence number (``captured_at``: default the clock);
        returns that number (the row id of an INTEGER PRIMARY KEY insert)."""
        guard = self._guard
        mode = guard.mode
        guard.mode = "internal"
        try:
            self._conn.execute(_OUTBOX_INSERT, (captured_at or _stamp(self._now()), changeset))
        finally:
            guard.mode = mode
        return self._conn.last_insert_rowid()

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

    def last_seq(self) -> int:
        """The highest sequence number in the outbox (0 when empty)."""
        row = self._conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()
        return int(row[0]) if row else 0

    def requeue_sent(self, first: int, before: int) -> int:
        """Make the sent rows ``first`` … ``before - 1`` pending again, with their sealed bytes, so they go
        to the server once more exactly as they went the first time (a server restored from a backup
        lost them). All or nothing: returns how many (0 if any of them is missing or has no envelope)."""
        with self._write():
            row = self._conn.execute(
                "SELECT count(*) FROM outbox WHERE seq >= ? AND seq < ? AND status = 'sent' AND envelope IS NOT NULL",
                (first, before)).fetchone()
            n = int(row[0]) if row else 0
            if n != before - first:
                return 0
            self._conn.execute("UPDATE outbox SET status = 'pending', sent_at = NULL, receipt = NULL"
                               " WHERE seq >= ? AND seq < ?", (first, before))
        return int(n)

    # -- pull ----------------------------------------------------------------------------------

    def apply_pull(self, changeset: bytes, cursor: int, *, restart: bool = False, mark: str | None = None) -> int:
        """Apply a pulled changeset (the server's rows win) and store ``cursor``, in one transaction.
        Refuses with :class:`PendingChanges` while the outbox holds unsent rows. Returns the number
        of changes in the changeset. ``restart``: the server started over from the beginning (its
        newest change is older than this tablet's cursor), so the cursor may go back. ``mark``: the
        server's mark of ``cursor``, stored with it."""
        changeset = bytes(changeset)
        count = check_pull(changeset, self.columns)
        with self._write():
            pending = self._pending_count()
            if pending:
                raise PendingChanges(pending)
            have = self._cursor()
            if cursor < have and not restart:
                raise PullApplyError(f"拉取游标倒退 (pull cursor went back from {have} to {cursor})")
            if changeset:
                try:
                    apsw.Changeset.apply(changeset, self._conn, conflict=pull_conflict)
                except apsw.Error as exc:
                    raise PullApplyError(f"拉取的变更无法应用 (pulled changes not applied: {exc})") from None
            self._set_state({CURSOR: str(cursor), CURSOR_MARK: mark or None, LAST_SYNC_AT: iso(self._now())})
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
        self._control("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if not conn.getautocommit():
                self._control("ROLLBACK")
            raise
        self._control("COMMIT")
