"""The one module that opens central-database connections.

* :func:`open_central` — a read-write apsw connection (WAL, foreign keys on, migrated). The server
  holds exactly one, owned by :class:`server.writer.Writer`; CLI commands open their own when the
  server is not running.
* :func:`open_writer` — the same, set up for ledgered writes.
* :func:`open_checkpointer` — a read-write connection that only checkpoints the WAL.
* :func:`open_reader` — a read-only connection (``mode=ro``) for queries that must never write.
* :func:`open_sqlite3_readonly` — a stdlib ``sqlite3`` read-only connection, for sqlite-utils and
  reports (apsw and sqlite3 connections are never mixed).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import urllib.parse
from pathlib import Path

import apsw

from schema.migrations import migrate

BUSY_TIMEOUT_MS = 10_000


def _pragmas(conn: apsw.Connection) -> None:
    conn.setbusytimeout(BUSY_TIMEOUT_MS)
    conn.execute("PRAGMA foreign_keys = ON")
    # A row replaced by INSERT OR REPLACE / UPSERT fires its delete triggers too, so the summary
    # tables' triggers (schema/summary_tables.py) see the old row leave.
    conn.execute("PRAGMA recursive_triggers = ON")


def readonly_uri(path: Path | str) -> str:
    """A file: URI opening ``path`` read-only (mode=ro; never immutable: the file changes)."""
    return "file:" + urllib.parse.quote(str(Path(path).resolve())) + "?mode=ro"


def open_central(path: Path | str, *, create: bool = True) -> apsw.Connection:
    """Open (and create or migrate) the central database read-write."""
    p = Path(path)
    if not create and not p.exists():
        raise FileNotFoundError(f"no central database at {p}")
    p.parent.mkdir(parents=True, exist_ok=True)
    if not p.exists():  # personal data: readable by this account only (SQLite gives -wal/-shm the same mode)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    conn = apsw.Connection(str(p))
    _pragmas(conn)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    migrate(conn, "central")
    return conn


def open_writer(path: Path | str, *, create: bool = True) -> apsw.Connection:
    """:func:`open_central` set up for writing through :func:`server.ledger.ledgered`.

    Every connection that writes through ``ledgered`` (the server's writer, admin commands, the demo,
    tests) opens this way.
    """
    conn = open_central(path, create=create)
    # Savepoint journals (a grouped upload is a SAVEPOINT in the writer's shared transaction) stay in
    # memory rather than spilling to a temporary file.
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def open_checkpointer(path: Path | str) -> apsw.Connection:
    """A read-write connection that only ever checkpoints the WAL (:class:`server.writer.Checkpointer`);
    it neither migrates nor writes rows."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no central database at {p}")
    conn = apsw.Connection(str(p))
    conn.setbusytimeout(BUSY_TIMEOUT_MS)
    return conn


def open_reader(path: Path | str) -> apsw.Connection:
    """A read-only apsw connection; writes through it fail."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no central database at {p}")
    conn = apsw.Connection(f"file:{p.resolve()}?mode=ro", flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    conn.setbusytimeout(BUSY_TIMEOUT_MS)
    return conn


def open_sqlite3_readonly(path: Path | str) -> sqlite3.Connection:
    """A read-only stdlib connection (for sqlite-utils, reports)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no central database at {p}")
    return sqlite3.connect(f"file:{p.resolve()}?mode=ro", uri=True)
