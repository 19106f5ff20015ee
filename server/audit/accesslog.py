"""The access log: every request to the audit service, in its own database file, written by one thread.

Why its own file (``audit_log.db``) and not the central database: auditing must never write the
database it audits (a checksum of ``central.db`` before and after an auditor's session is equal), the
audit process can then run with read-only rights on ``central.db``, and auditor traffic never queues
behind — or holds up — the sync server's writer. The "one writer per database" rule holds for this
file too: only :class:`AccessLog`'s thread opens it for writing; Datasette reads it ``mode=ro``.

An entry is written (committed, ``synchronous=FULL``) *before* the response it describes starts, so no
byte reaches an auditor unless its request is on the record. The thread commits whatever has queued up
in one transaction; callers wait on a future.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future
from dataclasses import astuple, dataclass
from pathlib import Path

import apsw

from schema.audit_tables import AUDIT_LOG_TABLES
from schema.ddl import add_column_sql, create_table_sql, index_sql

LOG_SCHEMA_VERSION = max(max(t.added_in, *(c.added_in for c in t.columns)) for t in AUDIT_LOG_TABLES)
_BATCH = 256


class AccessLogUnavailable(RuntimeError):
    """The access log cannot be written; the audit service answers 503 rather than serve unlogged."""


@dataclass(frozen=True)
class AccessEntry:
    at: str
    actor: str | None
    role: str | None
    method: str
    path: str
    query: str
    status: int
    client: str | None


_INSERT = ("INSERT INTO audit_access_log (at, actor, role, method, path, query, status, client)"
           " VALUES (?,?,?,?,?,?,?,?)")


def migrate_log(conn: apsw.Connection) -> None:
    """Create or upgrade the access-log tables from their registry records."""
    row = conn.execute("PRAGMA user_version").fetchone()
    have = int(row[0]) if row else 0
    for v in range(have + 1, LOG_SCHEMA_VERSION + 1):
        with conn:
            for t in AUDIT_LOG_TABLES:
                if t.added_in == v:
                    conn.execute(create_table_sql(t, "central", v))
                    for stmt in index_sql(t):
                        conn.execute(stmt)
                elif t.added_in < v:
                    for c in t.columns:
                        if c.added_in == v:
                            conn.execute(add_column_sql(t, c, "central"))
            conn.execute(f"PRAGMA user_version = {int(v)}")


def open_log(path: Path) -> apsw.Connection:
    """The write connection to the access-log file (created and migrated)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = apsw.Connection(str(path))
    conn.setbusytimeout(10_000)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    migrate_log(conn)
    return conn


_Item = tuple[AccessEntry, "Future[None]"] | None


class AccessLog:
    """Owns the access-log file's only write connection, on its own thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._opened: Future[None] = Future()
        self._failure: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="laogan-audit-log", daemon=True)
        self._thread.start()
        self._opened.result()

    @property
    def healthy(self) -> bool:
        """The last commit succeeded and the log is open."""
        return self._failure is None and not self._closed

    def submit(self, entry: AccessEntry) -> Future[None]:
        """Queue ``entry``; the future completes once it is committed (or fails)."""
        fut: Future[None] = Future()
        if self._closed:
            fut.set_exception(AccessLogUnavailable("access log closed"))
            return fut
        self._queue.put((entry, fut))
        return fut

    async def write(self, entry: AccessEntry) -> None:
        """Commit ``entry``; raises :class:`AccessLogUnavailable` when it cannot be recorded."""
        try:
            await asyncio.wrap_future(self.submit(entry))
        except AccessLogUnavailable:
            raise
        except Exception as exc:
            raise AccessLogUnavailable(str(exc)) from exc

    def _run(self) -> None:
        try:
            conn = open_log(self.path)
        except BaseException as exc:
            self._failure = exc
            self._opened.set_exception(exc)
            return
        self._opened.set_result(None)
        try:
            stop = False
            while not stop:
                first = self._queue.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < _BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
                self._commit(conn, batch)
        finally:
            conn.close()

    def _commit(self, conn: apsw.Connection, batch: list[tuple[AccessEntry, Future[None]]]) -> None:
        try:
            with conn:
                conn.executemany(_INSERT, [astuple(e) for e, _ in batch])
        except Exception as exc:
            self._failure = exc
            for _, fut in batch:
                fut.set_exception(AccessLogUnavailable(str(exc)))
            return
        self._failure = None
        for _, fut in batch:
            fut.set_result(None)

    def close(self) -> None:
        """Write what is queued, then stop the thread and close the file."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join()
        while True:  # anything queued after the stop marker is refused, never left waiting
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[1].set_exception(AccessLogUnavailable("access log closed"))
