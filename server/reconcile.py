"""Apply a tablet's changeset to the central database with field-level three-way merge.

The changeset's old values are the base, the server row is "theirs", the tablet's new values are
"ours". SQLite's conflict kinds map to laogan's rules in :func:`_on_conflict` — the one place:

==================  =========  ============================================================
SQLite reason        operation  laogan rule
==================  =========  ============================================================
DATA                 UPDATE     merge per column; same column changed both ways → conflict
DATA                 DELETE     row changed on the server since → conflict, row kept
NOTFOUND             UPDATE     row deleted on the server → conflict "edited after deletion"
NOTFOUND             DELETE     already deleted → nothing to do
CONFLICT             INSERT     key exists: identical → nothing; else per-column conflicts
CONSTRAINT           any        whole changeset → quarantine
FOREIGN_KEY          (end)      whole changeset → quarantine
==================  =========  ============================================================

Nothing here knows about HTTP; it runs inside a transaction the caller opened.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import apsw

from schema import SCHEMA_VERSION
from schema.model import Table
from schema.tables import table as registry_table
from schema.tables import uploadable_tables
from server.conflicts import already_settled
from server.quarantine import Refusal

_UPLOADABLE = {t.name: t for t in uploadable_tables()}
_DATA = apsw.SQLITE_CHANGESET_DATA
_NOTFOUND = apsw.SQLITE_CHANGESET_NOTFOUND
_CONFLICT = apsw.SQLITE_CHANGESET_CONFLICT
_CONSTRAINT = apsw.SQLITE_CHANGESET_CONSTRAINT
_FOREIGN_KEY = apsw.SQLITE_CHANGESET_FOREIGN_KEY


@dataclass(frozen=True)
class Conflict:
    tbl: str
    row_id: str
    unit_id: str | None
    column: str | None
    kind: str
    base: Any
    server: Any
    tablet: Any
    provisional: str


@dataclass
class Outcome:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    merged_rows: int = 0

    @property
    def status(self) -> str:
        if self.conflicts:
            return "conflicted"
        return "merged" if self.merged_rows else "applied"


def _check_shape(tbl: str, ncols: int, pk: set[int]) -> Table:
    t = _UPLOADABLE.get(tbl)
    if t is None:
        try:
            registry_table(tbl)
        except Exception:
            raise Refusal("unknown_table", f"未知的表 {tbl}", f"unknown table {tbl}") from None
        raise Refusal("read_only_table", f"平板不能修改表 {tbl}", f"tablets may not write table {tbl}")
    have = [c for c in t.columns if c.added_in <= SCHEMA_VERSION]
    if ncols > len(have):
        raise Refusal("schema_newer", f"表 {tbl} 的字段比服务器多(平板版本较新)",
                      f"table {tbl} has more columns than the server knows (newer tablet schema)")
    if ncols < 1 or pk != {0}:
        raise Refusal("malformed_changeset", f"表 {tbl} 的主键不符", f"table {tbl}: primary key mismatch")
    return t


def scan(changeset: bytes, conn: apsw.Connection, scope: frozenset[str]) -> dict[str, dict[str, int]]:
    """Check every change's table, shape and unit before anything is applied; count them.

    Raises :class:`Refusal` for an unknown or read-only table, a newer schema, or a row outside the
    device's scope (naming table and key).
    """
    counts: dict[str, dict[str, int]] = {}
    updates: dict[str, list[tuple[str, Any]]] = {}
    try:
        for ch in apsw.Changeset.iter(changeset):
            t = _check_shape(ch.name, ch.column_count, set(ch.pk_columns))
            op = ch.op.lower()
            c = counts.setdefault(t.name, {"insert": 0, "update": 0, "delete": 0})
            c[op] += 1
            si = t.column_names().index(t.scope) if t.scope else None
            old, new = ch.old, ch.new
            key = str((old or new or ("?",))[0])
            if si is None:
                continue
            if op == "insert":
                _in_scope(t.name, key, new[si] if new and si < len(new) else None, scope)
            elif op == "delete":
                _in_scope(t.name, key, old[si] if old and si < len(old) else None, scope)
            else:
                moved = new[si] if new is not None and si < len(new) else apsw.no_change
                if moved is not apsw.no_change:
                    _in_scope(t.name, key, moved, scope)
                updates.setdefault(t.name, []).append((key, old[si] if old and si < len(old) else apsw.no_change))
    except Refusal:
        raise
    except apsw.Error as exc:
        raise Refusal("malformed_changeset", "变更集格式错误", f"malformed changeset: {exc}") from None
    for tname, keys in updates.items():
        _check_existing_units(conn, registry_table(tname), keys, scope)
    return counts


def _in_scope(tbl: str, key: str, unit: Any, scope: frozenset[str]) -> None:
    if unit not in scope:
        raise Refusal("scope_violation", f"越权:{tbl} 的记录 {key} 不属于本设备的单位",
                      f"scope violation: {tbl} row {key} is outside the device's unit")


def _check_existing_units(conn: apsw.Connection, t: Table, keys: list[tuple[str, Any]], scope: frozenset[str]) -> None:
    assert t.scope is not None
    ids = json.dumps([k for k, _ in keys])
    found: dict[Any, Any] = dict(conn.execute(
        f'SELECT id, "{t.scope}" FROM "{t.name}" WHERE id IN (SELECT value FROM json_each(?))', (ids,)
    ).fetchall())  # type: ignore[arg-type]
    for key, old_unit in keys:
        unit = found.get(key, old_unit)
        if unit is apsw.no_change:
            continue  # row unknown to the server: the apply step records "edited after deletion"
        _in_scope(t.name, key, unit, scope)


@dataclass
class _Pending:
    data_updates: list[tuple[str, tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]] = field(default_factory=list)
    inserts: list[tuple[str, tuple[Any, ...], tuple[Any, ...]]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    refusal: Refusal | None = None


def _unit_of(t: Table, row: Iterable[Any] | None) -> str | None:
    if row is None or t.scope is None:
        return None
    values = list(row)
    i = t.column_names().index(t.scope)
    v = values[i] if i < len(values) else None
    return None if v is apsw.no_change or v is None else str(v)


def _on_conflict(reason: int, ch: apsw.TableChange, pending: _Pending) -> int:
    if reason == _FOREIGN_KEY:  # reported once, at the end, with no table
        pending.refusal = Refusal("foreign_key", f"引用的记录不存在({ch.fk_conflicts} 处)",
                                  f"references a missing record ({ch.fk_conflicts} foreign-key violations)")
        return apsw.SQLITE_CHANGESET_ABORT
    t = registry_table(ch.name)
    op = ch.op
    if reason == _DATA and op == "UPDATE":
        assert ch.old is not None and ch.new is not None and ch.conflict is not None
        pending.data_updates.append((t.name, tuple(ch.old), tuple(ch.new), tuple(ch.conflict)))
        return apsw.SQLITE_CHANGESET_OMIT
    if reason == _NOTFOUND and op == "UPDATE":
        assert ch.old is not None and ch.new is not None
        changed = {c.name: v for c, v in zip(t.columns, ch.new, strict=False) if v is not apsw.no_change}
        pending.conflicts.append(Conflict(
            t.name, str(ch.old[0]), _unit_of(t, ch.old), None, "edited_after_delete",
            None, None, changed, "server"))
        return apsw.SQLITE_CHANGESET_OMIT
    if reason == _NOTFOUND and op == "DELETE":
        return apsw.SQLITE_CHANGESET_OMIT
    if reason == _DATA and op == "DELETE":
        assert ch.old is not None and ch.conflict is not None
        pending.conflicts.append(Conflict(
            t.name, str(ch.old[0]), _unit_of(t, ch.conflict), None, "deleted_after_edit",
            dict(zip(t.column_names(), ch.old, strict=False)),
            dict(zip(t.column_names(), ch.conflict, strict=False)), None, "server"))
        return apsw.SQLITE_CHANGESET_OMIT
    if reason == _CONFLICT and op == "INSERT":
        assert ch.new is not None and ch.conflict is not None
        if tuple(ch.new) != tuple(ch.conflict)[: len(ch.new)]:
            pending.inserts.append((t.name, tuple(ch.new), tuple(ch.conflict)))
        return apsw.SQLITE_CHANGESET_OMIT
    pending.refusal = Refusal("constraint", f"数据不符合约束:表 {t.name}",
                              f"constraint failed in table {t.name}")
    return apsw.SQLITE_CHANGESET_ABORT


def _tablet_wins(policy: str, captured_at: str, server_changed_at: str | None) -> bool:
    if policy == "server":
        return False
    return server_changed_at is not None and captured_at > server_changed_at


def _server_changed_at(conn: apsw.Connection, tbl: str, row_id: str) -> str | None:
    row = conn.execute(
        "SELECT captured_at FROM change_log WHERE tbl = ? AND row_id = ? ORDER BY seq DESC LIMIT 1", (tbl, row_id)
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def _merge_row(conn: apsw.Connection, t: Table, base: tuple[Any, ...] | None, ours: tuple[Any, ...],
               theirs: tuple[Any, ...], captured_at: str, out: Outcome) -> None:
    row_id = str(ours[0] if ours[0] is not apsw.no_change else (base or ours)[0])
    assign: dict[str, Any] = {}
    server_at: str | None = None
    kind = "field" if base is not None else "insert_exists"
    for i, c in enumerate(t.columns[: len(ours)]):
        mine = ours[i]
        if mine is apsw.no_change or i == 0:
            continue
        theirs_v = theirs[i]
        base_v = base[i] if base is not None else None
        if base is not None and theirs_v == base_v:
            assign[c.name] = mine
        elif theirs_v == mine:
            continue
        elif base is not None and already_settled(conn, t.name, row_id, c.name, base_v, mine, theirs_v):
            continue  # a person already decided this very disagreement; their answer stands
        else:
            if server_at is None:
                server_at = _server_changed_at(conn, t.name, row_id) or ""
            win = _tablet_wins(c.merge, captured_at, server_at or None)
            if win:
                assign[c.name] = mine
            out.conflicts.append(Conflict(t.name, row_id, _unit_of(t, theirs), c.name, kind, base_v,
                                          theirs_v, mine, "tablet" if win else "server"))
    if assign:
        sets = ", ".join(f'"{k}" = ?' for k in assign)
        conn.execute(f'UPDATE "{t.name}" SET {sets} WHERE id = ?', (*assign.values(), row_id))
    out.merged_rows += 1


def apply_changeset(conn: apsw.Connection, changeset: bytes, *, captured_at: str, counts: dict[str, dict[str, int]]) -> Outcome:
    """Apply inside the caller's transaction; raises :class:`Refusal` (caller rolls back) on a
    constraint or foreign-key failure, so a changeset is applied whole or not at all."""
    pending = _Pending()
    out = Outcome(counts=counts)
    try:
        apsw.Changeset.apply(changeset, conn, conflict=lambda r, ch: _on_conflict(r, ch, pending))
    except (apsw.AbortError, apsw.ConstraintError) as exc:
        raise pending.refusal or Refusal("constraint", "数据不符合约束", f"constraint failed: {exc}") from None
    except apsw.SQLError as exc:
        raise Refusal("malformed_changeset", "变更集与表结构不符", f"changeset does not fit the schema: {exc}") from None
    if pending.refusal is not None:
        raise pending.refusal
    try:
        for tname, old, new, cur in pending.data_updates:
            _merge_row(conn, registry_table(tname), old, new, cur, captured_at, out)
        for tname, new, cur in pending.inserts:
            _merge_row(conn, registry_table(tname), None, new, cur, captured_at, out)
    except apsw.ConstraintError as exc:
        raise Refusal("constraint", "合并后的数据不符合约束", f"merged row breaks a constraint: {exc}") from None
    out.conflicts[:0] = pending.conflicts
    return out
