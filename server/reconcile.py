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

One case SQLite does not report: a DELETE from a tablet on an older schema (fewer columns) is compared
on its columns only. :mod:`server.narrow_delete` reads it as carrying the newer columns' defaults and
makes a row whose newer columns differ a "deleted after an edit" conflict too, row kept.

Nothing here knows about HTTP; it runs inside a transaction the caller opened.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import apsw

from schema.model import Table
from schema.row_rules import ROW_RULE_TABLES
from schema.tables import table as registry_table
from server import narrow_delete
from server.changeset_plan import Plan, plan, scan
from server.conflicts import already_settled
from server.ledger import no_triggers
from server.quarantine import Refusal
from server.reference_rules import check_stored

_DATA = apsw.SQLITE_CHANGESET_DATA
_NOTFOUND = apsw.SQLITE_CHANGESET_NOTFOUND
_CONFLICT = apsw.SQLITE_CHANGESET_CONFLICT
_CONSTRAINT = apsw.SQLITE_CHANGESET_CONSTRAINT
_FOREIGN_KEY = apsw.SQLITE_CHANGESET_FOREIGN_KEY
_NO_SAVEPOINT = apsw.SQLITE_CHANGESETAPPLY_NOSAVEPOINT
_DATA_ERRORS = (apsw.ConstraintError, apsw.AbortError, apsw.SQLError, apsw.MismatchError, apsw.RangeError,
                apsw.TooBigError)
"""What the data of a changeset can cause (a fast path then steps aside); anything else — a full disk,
an I/O error, which may end the transaction — propagates."""
__all__ = ["Conflict", "NotClean", "Outcome", "Plan", "apply_changeset", "exact_tables", "plan", "scan"]
# The fast paths of a clean apply (measurements and reasons: docs/benchmarks.md).
DIRECT_INSERTS = True
"""Small insert-only changesets are inserted from cached statements (:func:`_apply_direct`)."""
FAST_MIN_ROWS = 100
"""From this many rows a changeset the plan finds clean goes through :func:`_apply_fast`; below, an
insert-only one through :func:`_apply_direct`."""
BULK_CACHE_KIB = 32 * 1024
"""Page cache while a large changeset is applied (default 2 MiB: it spilled and re-read pages)."""


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
    exact: bool = False
    """A fast path applied the changeset cleanly: its effect is the changeset itself."""

    @property
    def status(self) -> str:
        if self.conflicts:
            return "conflicted"
        return "merged" if self.merged_rows else "applied"


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


def _narrow_deleted(pending: _Pending, tbl: str, base: dict[str, Any], server: dict[str, Any]) -> None:
    """A narrow DELETE of a row whose newer columns the server changed: the DATA rule above."""
    t = registry_table(tbl)
    pending.conflicts.append(Conflict(t.name, str(base[t.pk]), _unit_of(t, server.values()), None,
                                      "deleted_after_edit", base, server, None, "server"))


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


class NotClean(Exception):
    """A fast path met a conflict or an error half-way: the caller rolls its transaction back and
    calls :func:`apply_changeset` again without the plan. Raised only when a ``plan`` was passed."""


def _apply_fast(conn: apsw.Connection, changeset: bytes) -> None:
    """Apply a large changeset expected to be clean, with a larger page cache: :class:`NotClean`,
    transaction half-written, at the first conflict callback or error."""

    def refuse_all(_reason: int, _change: apsw.TableChange) -> int:
        return apsw.SQLITE_CHANGESET_ABORT

    row = conn.execute("PRAGMA cache_size").fetchone()
    cache = int(row[0]) if row else -2000
    kib = -cache if cache < 0 else cache * 4  # pages: assume 4 KiB, the default page size
    if kib < BULK_CACHE_KIB:
        conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        apsw.Changeset.apply(changeset, conn, conflict=refuse_all, flags=_NO_SAVEPOINT)
    except _DATA_ERRORS:
        raise NotClean from None
    finally:
        conn.execute(f"PRAGMA cache_size = {cache}")


@functools.cache
def _insert_sql(name: str, ncols: int) -> str:
    cols = registry_table(name).column_names()[:ncols]
    return (f'INSERT INTO main."{name}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
            f'VALUES ({", ".join("?" * ncols)})')


def _apply_direct(conn: apsw.Connection, changeset: bytes) -> None:
    """Apply a small insert-only changeset as the INSERTs a clean apply runs, in changeset order, from
    cached statements (SQLite's apply prepares four per table and expires every statement via
    ``defer_foreign_keys``). A key that exists, a failing CHECK or foreign key: :class:`NotClean`."""
    try:
        for ch in apsw.Changeset.iter(changeset):
            new = ch.new
            if ch.op != "INSERT" or new is None:
                raise NotClean
            conn.execute(_insert_sql(ch.name, ch.column_count), new)
    except _DATA_ERRORS:
        raise NotClean from None


def exact_tables(conn: apsw.Connection, p: Plan) -> frozenset[str]:
    """The tables whose ledger effect will be the changeset itself, if a fast path applies it: all of
    ``p.tables`` when a fast path will be tried, every change carries every column (so replaying the
    changeset writes the same rows) and no trigger can add writes to them; else none. ``p.log`` is
    then their change_log rows. A fast path that meets a conflict raises :class:`NotClean`, as always."""
    if not (p.fast and p.full_width) or not no_triggers(conn, p.tables):
        return frozenset()
    if len(p.log) >= FAST_MIN_ROWS or (DIRECT_INSERTS and p.inserts_only):
        return frozenset(p.tables)
    return frozenset()


def apply_changeset(conn: apsw.Connection, changeset: bytes, *, captured_at: str, counts: dict[str, dict[str, int]],
                    plan: Plan | None = None) -> Outcome:
    """Apply inside the caller's transaction; raises :class:`Refusal` (caller rolls back) on a
    constraint or foreign-key failure, so a changeset is applied whole or not at all.

    With the :class:`Plan` from :func:`plan`, a clean changeset takes a fast path with the same
    result (rows, change_log, ledger effect): :func:`_apply_fast` (large) or :func:`_apply_direct`
    (small, inserts only); one that is not clean raises :class:`NotClean` part-way, and the caller
    rolls back and calls again without the plan. No savepoint anywhere (``NOSAVEPOINT``): the
    caller's rollback undoes a refusal, and a savepoint made SQLite journal every page it touched.
    """
    narrow = None if plan is None else not plan.full_width
    if plan is not None and plan.fast:
        if len(plan.log) >= FAST_MIN_ROWS and (not narrow or not any(c["delete"] for c in plan.counts.values())):
            _apply_fast(conn, changeset)
            return Outcome(counts=counts, exact=True)
        elif DIRECT_INSERTS and plan.inserts_only:
            _apply_direct(conn, changeset)
            return Outcome(counts=counts, exact=True)
    pending = _Pending()
    out = Outcome(counts=counts)
    if narrow is None:
        narrow = narrow_delete.may_narrow_delete(changeset)
    try:
        if narrow:  # a tablet on an older schema: its DELETEs go through the guard (module docstring)
            apsw.Changeset.apply(changeset, conn, flags=_NO_SAVEPOINT,
                                 filter_change=narrow_delete.guard(conn, lambda *a: _narrow_deleted(pending, *a)),
                                 conflict=lambda r, ch: _on_conflict(r, ch, pending))
        else:
            apsw.Changeset.apply(changeset, conn, conflict=lambda r, ch: _on_conflict(r, ch, pending),
                                 flags=_NO_SAVEPOINT)
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
    # a merge may keep the server's value of one column beside the tablet's of another: check the rules
    # between rows on what was written (the plan checked the upload's own values)
    check_stored(conn, [(m[0], m[-1][0]) for m in (*pending.data_updates, *pending.inserts)
                        if m[0] in ROW_RULE_TABLES and m[-1] is not None])
    out.conflicts[:0] = pending.conflicts
    return out
