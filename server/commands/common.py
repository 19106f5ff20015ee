"""What the admin commands share: opening the central database the way the server does."""

from __future__ import annotations

from pathlib import Path

import apsw
import click

from server.settings import load_settings

db_option = click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                         help="Central database file (default: LAOGAN_DB or var/central.db).")


def open_writer(db_path: Path | None = None) -> apsw.Connection:
    """The existing central database (``--db`` or the settings'), opened for ledgered admin commands."""
    from server import db

    return db.open_writer(db_path or load_settings().db_path, create=False)
