"""One serialised writer per central database, kept off the event loop; read-only readers beside it.

The writer owns the only read-write connection and runs every write on its own thread, one at a time
(SQLite allows one writer anyway; queuing in Python avoids busy-waiting). Readers are read-only
connections, one per reader thread.

Group commit. A durable commit waits for the disk (``synchronous=FULL``: one fsync of the WAL, a few
milliseconds here), and with one commit per request that wait caps the server at a few hundred writes a
second however cheap the writes are. Jobs submitted with :meth:`Writer.run_grouped` are therefore run
together: the writer takes every grouped job already queued (up to ``max_group``), opens one
transaction, runs each job in turn — each job's own ledgered transaction becomes a SAVEPOINT inside it
(:func:`server.ledger.ledgered` nests), so one job's refusal or error undoes only that job — and
commits once. No job's result or error is handed back before that commit has returned, so a receipt
is never sent for a write that is not on disk; if the commit fails, every job of the group fails with
:class:`~server.errors.WriteFailed` and nothing of it is kept. Jobs arriving while a group commits form
the next group, so groups grow with the load and a lone request waits for no one.

A grouped job must make its writes inside ``ledgered`` blocks (which it does to be ledgered at all):
writes outside one are kept or lost with the group, not with the job.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import apsw

from server.db import open_checkpointer, open_reader, open_writer
from server.errors import WriteFailed

T = TypeVar("T")
log = logging.getLogger("laogan.writer")

MAX_GROUP = 128
"""At most this many jobs share one commit (bounds the latency one group adds to its last member)."""
CHECKPOINT_PAGES = 1000
"""WAL size (pages) past which the checkpointer thread copies it back into the database file."""


@dataclass
class _Job:
    fn: Callable[[apsw.Connection], Any]
    grouped: bool
    future: Future[Any] = field(default_factory=Future)


@dataclass
class GroupStats:
    """Counters of the group commits so far (read by benchmarks and tests)."""

    groups: int = 0
    jobs: int = 0
    largest: int = 0
    failed: int = 0


class Writer:
    """Runs functions of the write connection on one dedicated thread, grouping commits."""

    def __init__(self, path: Path, *, max_group: int = MAX_GROUP, cache_mib: int = 0) -> None:
        self._path = path
        self._cache_mib = cache_mib
        self._max_group = max(1, max_group)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self.stats = GroupStats()
        opened: Future[apsw.Connection] = Future()
        self._thread = threading.Thread(target=self._main, args=(opened,), name="laogan-writer", daemon=True)
        self._checkpoints: Checkpointer | None = None
        self._thread.start()
        self._conn = opened.result()

    # -- submitting -------------------------------------------------------------------------------
    def submit(self, fn: Callable[[apsw.Connection], T], *, grouped: bool = False) -> Future[T]:
        job = _Job(fn, grouped)
        with self._lock:
            if self._closed:
                raise WriteFailed("the writer is closed")
            self._queue.put(job)
        return job.future

    async def run(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn`` alone (it manages its own transactions)."""
        return await asyncio.wrap_future(self.submit(fn))

    async def run_grouped(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn`` inside a shared transaction committed with the jobs queued beside it."""
        return await asyncio.wrap_future(self.submit(fn, grouped=True))

    def run_sync(self, fn: Callable[[apsw.Connection], T]) -> T:
        return self.submit(fn).result()

    @property
    def alive(self) -> bool:
        """Whether writes are still taken (not closed, and the writer thread has not stopped)."""
        return not self._closed and self._thread.is_alive()

    @property
    def checkpoints(self) -> int:
        """How many WAL checkpoints the checkpointer thread has run."""
        return 0 if self._checkpoints is None else self._checkpoints.runs

    def close(self) -> None:
        """Run what is queued, then stop (later submissions fail with :class:`WriteFailed`)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(None)
        self._thread.join()
        if self._checkpoints is not None:
            self._checkpoints.close()

    # -- the writer thread ------------------------------------------------------------------------
    def _main(self, opened: Future[apsw.Connection]) -> None:
        try:
            conn = open_writer(self._path)
            if self._cache_mib > 0:
                conn.execute(f"PRAGMA cache_size = -{self._cache_mib * 1024}")
            self._checkpoints = Checkpointer(self._path)
            conn.set_wal_hook(self._checkpoints.wal_hook)  # replaces SQLite's automatic checkpoint
        except BaseException as exc:
            with self._lock:
                self._closed = True
            opened.set_exception(exc)
            return
        opened.set_result(conn)
        held: deque[_Job | None] = deque()
        try:
            while True:
                job = held.popleft() if held else self._queue.get()
                if job is None:
                    break
                group = [job]
                while job.grouped and len(group) < self._max_group:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None or not nxt.grouped:
                        held.append(nxt)
                        break
                    group.append(nxt)
                try:
                    self._group(conn, group) if job.grouped else self._alone(conn, job)
                except BaseException:  # the writer's own machinery failed: answer, then stop
                    log.exception("the writer stopped")
                    for j in group:
                        pending = j.future.running() or (not j.future.done() and j.future.set_running_or_notify_cancel())
                        if pending:
                            j.future.set_exception(WriteFailed("the writer stopped during this write; retry"))
                    break
        finally:
            with self._lock:
                self._closed = True
            self._fail_pending(held)
            conn.close()

    def _fail_pending(self, held: deque[_Job | None]) -> None:
        """Fail whatever is still queued when the writer stops (nothing of it ran)."""
        while True:
            if held:
                job = held.popleft()
            else:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    return
            if job is not None and job.future.set_running_or_notify_cancel():
                job.future.set_exception(WriteFailed("the writer stopped before this write ran; retry"))

    @staticmethod
    def _end_transaction(conn: apsw.Connection, why: str) -> None:
        """Roll back a transaction a job left open (a bug, or an error SQLite did not end)."""
        if conn.in_transaction:
            log.error("rolling back a transaction left open: %s", why)
            conn.execute("ROLLBACK")

    def _alone(self, conn: apsw.Connection, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            result = job.fn(conn)
        except BaseException as exc:
            self._end_transaction(conn, "after a failed job")
            job.future.set_exception(exc)
            return
        if conn.in_transaction:  # its writes are not committed: do not report success
            self._end_transaction(conn, "after a job that returned")
            job.future.set_exception(WriteFailed("write not kept: the transaction was left open; retry"))
            return
        job.future.set_result(result)

    def _group(self, conn: apsw.Connection, group: list[_Job]) -> None:
        live = [j for j in group if j.future.set_running_or_notify_cancel()]
        if not live:
            return
        outcomes: list[tuple[_Job, bool, Any]] = []
        lost: str | None = None
        try:
            conn.execute("BEGIN IMMEDIATE")
        except apsw.Error as exc:
            lost = f"cannot begin ({type(exc).__name__})"
        if lost is None:
            for job in live:
                try:
                    outcomes.append((job, True, job.fn(conn)))
                except BaseException as exc:
                    outcomes.append((job, False, exc))
                if not conn.in_transaction:  # SQLite ended the transaction (I/O error, full disk, …)
                    lost = "the shared transaction was rolled back"
                    break
        if lost is None:
            try:
                conn.execute("COMMIT")
            except apsw.Error as exc:
                lost = f"commit failed ({type(exc).__name__})"
        if lost is not None:
            try:
                self._end_transaction(conn, lost)
            except apsw.Error:
                log.exception("rollback failed")
            log.error("group of %d writes not kept: %s", len(live), lost)
            self.stats.failed += len(live)
            for job in live:
                job.future.set_exception(WriteFailed(f"write not kept: {lost}; retry"))
            return
        self.stats.groups += 1
        self.stats.jobs += len(live)
        self.stats.largest = max(self.stats.largest, len(live))
        for job, ok, value in outcomes:
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)


class Checkpointer:
    """Copies the WAL back into the database file on its own thread and connection.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses the threshold, so the writer
    would wait for the database file's writes and fsync as well as its own. Here the writer's WAL hook
    only wakes this thread, which runs PASSIVE checkpoints (never waiting for readers or the writer);
    SQLite restarts the WAL from the beginning once a checkpoint has copied all of it.
    """

    def __init__(self, path: Path, *, pages: int = CHECKPOINT_PAGES) -> None:
        self._pages = pages
        self._wake = threading.Event()
        self._stop = False
        self.runs = 0
        self._conn = open_checkpointer(path)
        self._thread = threading.Thread(target=self._main, name="laogan-checkpoint", daemon=True)
        self._thread.start()

    def wal_hook(self, _conn: apsw.Connection, _db: str, pages: int) -> int:
        if pages >= self._pages:
            self._wake.set()
        return apsw.SQLITE_OK

    def _main(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop:
                return
            try:
                self._conn.wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_PASSIVE)
                self.runs += 1
            except apsw.Error as exc:  # busy or I/O: the next wake-up tries again
                log.warning("checkpoint failed: %s", type(exc).__name__)

    def close(self) -> None:
        if self._thread.is_alive():
            self._stop = True
            self._wake.set()
            self._thread.join()
        self._conn.close()


class Readers:
    """A small pool of threads, each with its own read-only connection."""

    def __init__(self, path: Path, threads: int = 2) -> None:
        self._path = path
        self._local = threading.local()
        self._conns: list[apsw.Connection] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="laogan-reader")

    def _conn(self) -> apsw.Connection:
        conn: apsw.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = open_reader(self._path)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def _call(self, fn: Callable[[apsw.Connection], T]) -> T:
        return fn(self._conn())

    async def run(self, fn: Callable[[apsw.Connection], T]) -> T:
        return await asyncio.wrap_future(self._pool.submit(self._call, fn))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for c in self._conns:
                c.close()
            self._conns.clear()
