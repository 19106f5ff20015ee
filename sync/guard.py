"""The authorizer installed while a capture is open: what SQL a captured transaction may run.

SQLite asks the authorizer while it *prepares* each statement, so a refused statement never runs
and nothing of it reaches the session or the database.  The guard raises a narrow
:mod:`sync.errors` exception straight from the callback (apsw propagates it to the caller).

Allowed: reads, functions, savepoints, writes to uploadable tables (``sync == "both"``), anything
in the ``temp`` schema, and introspection PRAGMAs.  Refused: writes to every other table (pulled-only
tables such as ``units``/``staff``/``service_menu``, and the tablet's own ``outbox``/``sync_state``),
UPDATE/DELETE of append-only tables, DDL on ``main``, ATTACH/DETACH, BEGIN/COMMIT/ROLLBACK and
PRAGMAs that set something.
"""

from __future__ import annotations

import apsw

from schema.tables import uploadable_tables
from sync.errors import AppendOnlyTable, ReadOnlyTable, StatementNotAllowed

_WRITES = frozenset({apsw.SQLITE_INSERT, apsw.SQLITE_UPDATE, apsw.SQLITE_DELETE})
_TEMP_DDL = frozenset({
    apsw.SQLITE_CREATE_TEMP_INDEX, apsw.SQLITE_CREATE_TEMP_TABLE, apsw.SQLITE_CREATE_TEMP_TRIGGER,
    apsw.SQLITE_CREATE_TEMP_VIEW, apsw.SQLITE_DROP_TEMP_INDEX, apsw.SQLITE_DROP_TEMP_TABLE,
    apsw.SQLITE_DROP_TEMP_TRIGGER, apsw.SQLITE_DROP_TEMP_VIEW,
})
_REFUSED = frozenset({
    apsw.SQLITE_CREATE_INDEX, apsw.SQLITE_CREATE_TABLE, apsw.SQLITE_CREATE_TRIGGER,
    apsw.SQLITE_CREATE_VIEW, apsw.SQLITE_DROP_INDEX, apsw.SQLITE_DROP_TABLE, apsw.SQLITE_DROP_TRIGGER,
    apsw.SQLITE_DROP_VIEW, apsw.SQLITE_ALTER_TABLE, apsw.SQLITE_REINDEX, apsw.SQLITE_ANALYZE,
    apsw.SQLITE_CREATE_VTABLE, apsw.SQLITE_DROP_VTABLE, apsw.SQLITE_ATTACH, apsw.SQLITE_DETACH,
    apsw.SQLITE_TRANSACTION,
})
_INTROSPECTION_PRAGMAS = frozenset({
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
})
_DDL_MESSAGE = "采集事务中不能执行此语句 (DDL, ATTACH and transaction control are not allowed in a capture)"


class CaptureGuard:
    """An apsw authorizer for captured transactions (see the module docstring)."""

    def __init__(self) -> None:
        tables = uploadable_tables()
        self._writable = frozenset(t.name for t in tables)
        self._append_only = frozenset(t.name for t in tables if t.append_only)

    def __call__(self, op: int, p1: str | None, p2: str | None, db: str | None, trigger: str | None) -> int:
        if op in _WRITES:
            if db == "temp":
                return apsw.SQLITE_OK
            table = p1 or "?"
            if table.startswith("sqlite_"):  # the schema itself: DDL authorises this before its own op
                raise StatementNotAllowed(_DDL_MESSAGE)
            if table not in self._writable:
                raise ReadOnlyTable(table)
            if op != apsw.SQLITE_INSERT and table in self._append_only:
                raise AppendOnlyTable(table)
            return apsw.SQLITE_OK
        if op in _TEMP_DDL:
            return apsw.SQLITE_OK
        if op in _REFUSED:
            raise StatementNotAllowed(_DDL_MESSAGE)
        if op == apsw.SQLITE_PRAGMA and p2 is not None and (p1 or "").lower() not in _INTROSPECTION_PRAGMAS:
            raise StatementNotAllowed(f"采集事务中不能设置 PRAGMA {p1} (PRAGMA {p1} = ... is not allowed in a capture)")
        return apsw.SQLITE_OK
