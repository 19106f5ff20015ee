"""One serialised writer per central database, kept off the event loop; read-only readers beside it.

The writer owns the only read-write connection and runs every write on its own thread, one at a time
(SQLite allows one writer anyway; queuing in Python avoids busy-waiting). Readers are read-only
connections, one per reader thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import apsw

from server.db import open_reader, open_writer

T = TypeVar("T")


class Writer:
    """Runs functions of the write connection on one dedicated thread."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="laogan-writer")
        self._conn: apsw.Connection = self._pool.submit(self._open).result()

    def _open(self) -> apsw.Connection:
        conn = open_writer(self._path)
        return conn

    async def run(self, fn: Callable[[apsw.Connection], T]) -> T:
        return await asyncio.wrap_future(self._pool.submit(fn, self._conn))

    def run_sync(self, fn: Callable[[apsw.Connection], T]) -> T:
        return self._pool.submit(fn, self._conn).result()

    def close(self) -> None:
        self._pool.submit(self._conn.close).result()
        self._pool.shutdown(wait=True)


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
