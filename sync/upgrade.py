"""Schema upgrades of a tablet database: what a migration means for its pulls.

Pulls are cut to the tablet's schema version (``server/pull.py``): a tablet at an older version never got
the tables, columns or rows that version lacks. Migrating past a version that adds any of them would
leave its cursor beyond rows it never received, so the pull starts over instead.
"""

from __future__ import annotations

import apsw

from schema import SCHEMA_VERSION
from schema.migrations import current_version
from schema.tables import pull_shape_changes
from sync.state import CURSOR, CURSOR_MARK


def restart_pulls_across_shape_changes(conn: apsw.Connection) -> None:
    """Before migrating a database whose pulls came at an older schema: when a version ahead changes what
    a pull brings (new synced tables or columns, rows the old version could not hold), set the pull cursor
    back to 0 so the next pull brings every row again, in the new shape. Done before the migration, in
    its own transaction, so a crash in between only does it again."""
    have = current_version(conn)
    if have == 0 or not any(pull_shape_changes(v) for v in range(have + 1, SCHEMA_VERSION + 1)):
        return
    with conn:
        conn.execute("UPDATE sync_state SET value = '0' WHERE key = ? AND value IS NOT NULL", (CURSOR,))
        conn.execute("UPDATE sync_state SET value = NULL WHERE key = ?", (CURSOR_MARK,))
