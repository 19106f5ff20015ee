"""``laogan_ledger_verify()``: the ``laogan ledger verify`` verdict, as a SQL function for canned queries.

It runs :func:`server.ledger_audit.verify` — the same code as the CLI — on its own read-only apsw
connection with the server's *public* key. The verdict is kept until the database file changes
(``PRAGMA data_version`` of that connection moves on any commit by anyone), so an idle database is
verified once and any change at all, including tampering with an old entry, triggers a full re-check.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from pathlib import Path

import apsw

from schema.errors import SchemaError
from schema.keys import load_public_keys
from server.db import open_reader
from server.ledger_audit import Verdict, verify


class LedgerCheck:
    """Verifies the ledger of one central database; thread-safe, one connection."""

    def __init__(self, central: Path, keys_dir: Path) -> None:
        self._central = central
        self._keys_dir = keys_dir
        self._lock = threading.Lock()
        self._conn: apsw.Connection | None = None
        self._cached: tuple[int, str] | None = None

    def verdict_json(self) -> str:
        """The verdict as JSON: ``{"ok", "entries", "head_hash", "checkpoints", "first_bad", "reason"}``."""
        with self._lock:
            try:
                public, _ = load_public_keys(self._keys_dir)
            except (SchemaError, OSError) as exc:
                return json.dumps(asdict(Verdict(False, 0, "", 0, None, f"no server public key: {exc}")),
                                  ensure_ascii=False)
            if self._conn is None:
                self._conn = open_reader(self._central)
            row = self._conn.execute("PRAGMA data_version").fetchone()
            version = int(row[0]) if row else -1
            if self._cached is not None and self._cached[0] == version:
                return self._cached[1]
            with self._conn:  # one read transaction: a consistent snapshot of the chain
                verdict = verify(self._conn, public)
            text = json.dumps(asdict(verdict), ensure_ascii=False)
            self._cached = (version, text)
            return text

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
