"""The scan of an uploaded changeset before anything is applied: shape, scope, counts, and the plan
of a clean apply (the ``change_log`` rows it will produce, and whether a fast path may take it).

Split from :mod:`server.reconcile`, which applies the changeset; nothing here writes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import apsw

from schema import SCHEMA_VERSION
from schema.model import Table
from schema.tables import table as registry_table
from schema.tables import uploadable_tables
from server.quarantine import Refusal
from server.reference_rules import WATCHED, Change
from server.reference_rules import check as check_references

_UPLOADABLE = {t.name: t for t in uploadable_tables()}
# Tables with a second UNIQUE key take no fast path: SQLite defers a change colliding on it to the end of the changeset.
_DEFERRABLE = frozenset(t.name for t in uploadable_tables() if any(
    c.unique for c in t.columns if c.name != t.pk) or any(i.unique for i in t.indexes))


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


_OPS = {"INSERT": "insert", "UPDATE": "update", "DELETE": "delete"}


def _key(old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> str:
    return str((old or new or ("?",))[0])


@dataclass
class Plan:
    """What :func:`plan` learnt from a changeset: the counts, and the ``change_log`` rows a clean
    apply will produce.

    A clean apply (SQLite never calls the conflict handler) applies every change once, in changeset
    order, when no key appears twice and no table has a second UNIQUE constraint; the triggers then
    log exactly ``log`` — (table, row id, unit) per change, plus the old unit for an update that
    moves a row. ``fast`` says whether that holds for this changeset.
    """

    counts: dict[str, dict[str, int]]
    log: list[tuple[str, str, Any]] = field(default_factory=list)
    tables: set[str] = field(default_factory=set)
    fast: bool = True
    full_width: bool = True
    """Every change carries all of its table's columns (a tablet on an older schema sends fewer)."""

    @property
    def inserts_only(self) -> bool:
        return all(c["update"] == 0 and c["delete"] == 0 for c in self.counts.values())


def scan(changeset: bytes, conn: apsw.Connection, scope: frozenset[str]) -> dict[str, dict[str, int]]:
    """Check every change's table, shape and unit before anything is applied; count them.

    Raises :class:`Refusal` for an unknown or read-only table, a newer schema, a row outside the
    device's scope (naming table and key), or a row that breaks a rule between rows a foreign key
    cannot state (:mod:`server.reference_rules`: a group outside its branch's unit, a member in another
    branch's group, a dual membership of a branch that is not special, a delivery of a notice from
    outside the units above).
    """
    return plan(changeset, conn, scope).counts


def plan(changeset: bytes, conn: apsw.Connection, scope: frozenset[str]) -> Plan:
    """:func:`scan`, also returning the :class:`Plan` of a clean apply. Per-row work is kept small:
    a table block's shape is checked once, a key is formatted only for a refusal or an update."""
    counts: dict[str, dict[str, int]] = {}
    updates: dict[str, list[tuple[str, Any]]] = {}
    shapes: dict[tuple[str, int, frozenset[int]],
                 tuple[Table, int | None, dict[str, int], set[Any], tuple[int, ...], bool]] = {}
    no_change = apsw.no_change
    out = Plan(counts)
    log = out.log
    moves: list[tuple[int, str, str, Any]] = []  # (index in log, table, key, new unit or no_change)
    seen: dict[str, set[Any]] = {}  # table -> keys met so far
    watched: list[Change] = []  # the changes of tables with rules between rows (server.reference_rules)
    try:
        for ch in apsw.Changeset.iter(changeset):
            shape = (ch.name, ch.column_count, frozenset(ch.pk_columns))
            known = shapes.get(shape)
            if known is None:
                t = _check_shape(shape[0], shape[1], set(shape[2]))
                si = t.column_names().index(t.scope) if t.scope else None
                reals = tuple(i for i, col in enumerate(t.columns[:shape[1]]) if col.kind == "real")
                known = shapes[shape] = (t, si, counts.setdefault(t.name, {"insert": 0, "update": 0, "delete": 0}),
                                         seen.setdefault(t.name, set()), reals, t.name in WATCHED)
                out.tables.add(t.name)
                if shape[1] != len(t.columns):
                    out.full_width = False
            t, si, c, keys, reals, watch = known
            op = _OPS[ch.op]
            c[op] += 1
            if watch:
                watched.append((t.name, op, ch.old, ch.new))
            if op != "insert" and not _carries_old_values(ch.old, ch.new):
                raise Refusal("patchset", "不接受补丁集:修改和删除必须带原值",
                              f"{t.name} row {_key(ch.old, ch.new)}: patchsets are not accepted (an update or"
                              " delete must carry the old values the merge compares with)")
            if reals and op != "delete":
                _finite(t, reals, ch.old, ch.new)
            if si is None:
                row = ch.new if op == "insert" else ch.old
                pk = row[0] if row else None
                log.append((t.name, str(pk), None))
                n = len(keys)
                keys.add(pk)
                if len(keys) == n:
                    out.fast = False
                continue
            if op == "insert":
                new = ch.new
                unit = new[si] if new and si < len(new) else None
                if unit not in scope:
                    _in_scope(t.name, _key(ch.old, new), unit, scope)
                pk = new[0] if new else None
                log.append((t.name, str(pk), unit))
            elif op == "delete":
                old = ch.old
                unit = old[si] if old and si < len(old) else None
                if unit not in scope:
                    _in_scope(t.name, _key(old, ch.new), unit, scope)
                pk = old[0] if old else None
                log.append((t.name, str(pk), unit))
            else:
                old, new = ch.old, ch.new
                key = _key(old, new)
                moved = new[si] if new is not None and si < len(new) else no_change
                if moved is not no_change:
                    _in_scope(t.name, key, moved, scope)
                updates.setdefault(t.name, []).append((key, old[si] if old and si < len(old) else no_change))
                pk = old[0] if old else None
                moves.append((len(log), t.name, key, moved))
                log.append((t.name, key, None))
            n = len(keys)
            keys.add(pk)
            if len(keys) == n:  # the same key twice
                out.fast = False
    except Refusal:
        raise
    except (apsw.Error, ValueError) as exc:  # ValueError: text that is not UTF-8 (UnicodeDecodeError)
        raise Refusal("malformed_changeset", "变更集格式错误", f"malformed changeset: {exc}") from None
    units: dict[str, dict[Any, Any]] = {}
    for tname, changed in updates.items():
        units[tname] = _check_existing_units(conn, registry_table(tname), changed, scope)
    if watched:
        check_references(conn, watched)
    if out.tables & _DEFERRABLE:
        out.fast = False
    if out.fast and moves:
        # An update logs the row's unit after it, and also the unit before when that differs (the
        # trigger's "OLD.unit IS NOT NEW.unit"); insert the extra rows back to front.
        for i, tname, key, moved in reversed(moves):
            if key not in units[tname]:
                out.fast = False  # the apply will report the row missing: the trigger path handles it
                break
            before = units[tname][key]
            after = before if moved is no_change else moved
            log[i] = (tname, key, after)
            if before != after:
                log.insert(i + 1, (tname, key, before))
    return out


def _finite(t: Table, reals: tuple[int, ...], old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> None:
    """A REAL column's new value must be finite (the registry's rule; SQLite's CHECK ``x >= 0`` lets +inf
    through)."""
    assert new is not None
    for i in reals:
        v = new[i] if i < len(new) else None
        if v.__class__ is float and not math.isfinite(v):
            col = t.columns[i].name
            raise Refusal("invalid_value", f"{t.name}.{col} 不是有限数值",
                          f"{t.name}.{col} of row {_key(old, new)} must be a finite number")


def _carries_old_values(old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> bool:
    """A changeset UPDATE has the old value of every column it changes, a DELETE the whole old row;
    a patchset has only the key, and applying it would overwrite server edits without a conflict."""
    no_change = apsw.no_change
    if old is None:
        return False
    if new is None:  # DELETE
        return all(v is not no_change for v in old)
    return all(o is not no_change for o, n in zip(old, new, strict=False) if n is not no_change)


def _in_scope(tbl: str, key: str, unit: Any, scope: frozenset[str]) -> None:
    if unit not in scope:
        raise Refusal("scope_violation", f"越权:{tbl} 的记录 {key} 不属于本设备的单位",
                      f"scope violation: {tbl} row {key} is outside the device's unit")


def _check_existing_units(conn: apsw.Connection, t: Table, keys: list[tuple[str, Any]],
                          scope: frozenset[str]) -> dict[Any, Any]:
    """Refuse updates of rows the server holds outside the scope; returns id -> the server's unit."""
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
    return found
