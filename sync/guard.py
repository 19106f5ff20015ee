"""The capture guard: an authorizer that decides what SQL a captured transaction may run.

SQLite asks the authorizer while it *prepares* each statement, so a refused statement never runs
and nothing of it reaches the session or the database.  The guard raises a narrow
:mod:`sync.errors` exception straight from the callback (apsw propagates it to the caller).

Allowed in a capture: reads, functions, savepoints, writes to uploadable tables (``sync == "both"``),
anything in the ``temp`` schema, and introspection PRAGMAs.  Refused: writes to every other table
(pulled-only tables such as ``units``/``staff``/``service_menu``, and the tablet's own
``outbox``/``sync_state``), UPDATE/DELETE of append-only tables, DDL on ``main``, ATTACH/DETACH,
BEGIN/COMMIT/ROLLBACK and PRAGMAs that set something.

The guard stays installed on its connection between captures (installing or removing an authorizer
expires every prepared statement, so doing it per capture would re-prepare every statement twice per
capture).  Its :attr:`CaptureGuard.mode` says what it does:

* ``"capture"`` — the checks above, raising on a refused statement;
* ``"open"``    — outside a capture: everything is allowed, but a statement the checks would refuse
  sets :attr:`CaptureGuard.dirty`, because apsw's statement cache could hand that unchecked
  statement to a later capture; the store then re-installs the guard (expiring every prepared
  statement, so each is checked again when next used) before that capture's first statement. A
  DELETE of an uploadable table does too: prepared without the recorder's hook registered, a
  ``DELETE`` with no ``WHERE`` is compiled to SQLite's truncate optimisation, which skips the hook;
* ``"internal"`` — the store's own statements (transaction control, the outbox row): allowed, not
  marking dirty; the store prepares them uncached or under a text no caller writes by accident.

An authorizer sees statements only as they are prepared; the checks are a function of the
authorizer's arguments alone, so a statement prepared in ``"open"`` mode that the checks would pass
is exactly the statement a capture would have prepared.
"""

from __future__ import annotations

from typing import Literal

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
_OK = apsw.SQLITE_OK
_ALWAYS_OK = frozenset({apsw.SQLITE_READ, apsw.SQLITE_SELECT, apsw.SQLITE_FUNCTION, apsw.SQLITE_SAVEPOINT})
"""The requests every mode allows (most of them: one READ per column a statement touches)."""
_INSERT = apsw.SQLITE_INSERT
_DELETE = apsw.SQLITE_DELETE
_PRAGMA = apsw.SQLITE_PRAGMA

Mode = Literal["capture", "open", "internal"]


class CaptureGuard:
    """An apsw authorizer for captured transactions (see the module docstring)."""

    def __init__(self) -> None:
        tables = uploadable_tables()
        self._writable = frozenset(t.name for t in tables)
        self._append_only = frozenset(t.name for t in tables if t.append_only)
        self.mode: Mode = "open"
        self.dirty = True
        """True when a statement the checks would refuse may sit prepared in a statement cache."""

    def refusal(self, op: int, p1: str | None, p2: str | None, db: str | None) -> Exception | None:
        """The error a capture raises for this authorizer request, or None if it is allowed."""
        if op in _WRITES:
            if db == "temp":
                return None
            table = p1 or "?"
            if table.startswith("sqlite_"):  # the schema itself: DDL authorises this before its own op
                return StatementNotAllowed(_DDL_MESSAGE)
            if table not in self._writable:
                return ReadOnlyTable(table)
            if op != _INSERT and table in self._append_only:
                return AppendOnlyTable(table)
            return None
        if op in _TEMP_DDL:
            return None
        if op in _REFUSED:
            return StatementNotAllowed(_DDL_MESSAGE)
        if op == _PRAGMA and p2 is not None and (p1 or "").lower() not in _INTROSPECTION_PRAGMAS:
            return StatementNotAllowed(f"采集事务中不能设置 PRAGMA {p1} (PRAGMA {p1} = ... is not allowed in a capture)")
        return None

    def __call__(self, op: int, p1: str | None, p2: str | None, db: str | None, trigger: str | None) -> int:
        if op in _ALWAYS_OK or (op == _PRAGMA and p1 in _INTROSPECTION_PRAGMAS):
            return _OK
        mode = self.mode
        if mode == "internal":
            return _OK
        problem = self.refusal(op, p1, p2, db)
        if problem is not None:
            if mode == "capture":
                raise problem
            self.dirty = True
        elif op == _DELETE and mode == "open" and db != "temp" and p1 in self._writable:
            # Prepared with no preupdate hook registered, ``DELETE FROM t`` (no WHERE) uses SQLite's
            # truncate optimisation, which never calls the hook: the recorder would miss every row.
            self.dirty = True
        return _OK
