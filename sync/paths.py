"""Where a tablet keeps its files: one directory holding the database and a ``keys/`` folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DB_NAME = "tablet.db"
KEYS_DIR = "keys"


@dataclass(frozen=True)
class TabletDir:
    """A tablet's directory: ``tablet.db`` (SQLite, WAL) and ``keys/`` (private keys 0600)."""

    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def keys_dir(self) -> Path:
        return self.root / KEYS_DIR

    def has_keys(self) -> bool:
        return self.keys_dir.is_dir() and any(self.keys_dir.iterdir())
