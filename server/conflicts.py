"""The conflict queue: list, show and resolve what the merge could not decide.

A resolution is a server change: it runs in a ledgered transaction, so it lands in ``change_log`` and
reaches every tablet of the row's unit on its next pull.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import apsw

from schema.errors import SchemaError
from schema.row_rules import ROW_RULE_TABLES
from schema.tables import table
from schema.validate import validate_row
from server.errors import BadRequest, NotFound
from server.ledger import iso, ledgered
from server.quarantine import Refusal
from server.reference_rules import check_stored
from server.values import decode_value, encode_value

CHOICES = ("tablet", "server", "value")
_COLS = ("id, upload_id, device_id, unit_id, tbl, row_id, column_name, kind, base_value, server_value,"
         " tablet_value, provisional, status, created_at, resolution, resolved_value, resolved_by, resolved_at")


@dataclass(frozen=True)
class ConflictRow:
    id: int
    upload_id: int
    device_id: str
    unit_id: str | None
    tbl: str
    row_id: str
    column_name: str | None
    kind: str
    base_value: Any
    server_value: Any
    tablet_value: Any
    provisional: str
    status: str
    created_at: str
    resolution: str | None
    resolved_value: Any
    resolved_by: str | None
    resolved_at: str | None


def _row(r: tuple[Any, ...]) -> ConflictRow:
    v = list(r)
    for i in (8, 9, 10, 15):
        v[i] = decode_value(v[i])
    return ConflictRow(*v)


def list_conflicts(conn: apsw.Connection, *, status: str | None = "open", unit_id: str | None = None,
                   limit: int = 100, offset: int = 0) -> list[ConflictRow]:
    where, args = [], []
    if status:
        where.append("status = ?")
        args.append(status)
    if unit_id:
        where.append("unit_id = ?")
        args.append(unit_id)
    sql = f"SELECT {_COLS} FROM conflicts" + (" WHERE " + " AND ".join(where) if where else "")
    rows = conn.execute(sql + " ORDER BY id LIMIT ? OFFSET ?", (*args, limit, offset)).fetchall()
    return [_row(r) for r in rows]


def get_conflict(conn: apsw.Connection, conflict_id: int) -> ConflictRow:
    r = conn.execute(f"SELECT {_COLS} FROM conflicts WHERE id = ?", (conflict_id,)).fetchone()
    if r is None:
        raise NotFound(f"没有冲突 {conflict_id} (no conflict {conflict_id})", code="unknown_conflict")
    return _row(r)


def _last_full_row(conn: apsw.Connection, tbl: str, row_id: str) -> dict[str, Any] | None:
    """The row's values just before it was last deleted, from the ledger's effects."""
    for (effect,) in conn.execute(
        "SELECT l.effect FROM change_log c JOIN ledger l ON l.id = c.ledger_id"
        " WHERE c.tbl = ? AND c.row_id = ? ORDER BY c.seq DESC", (tbl, row_id)
    ).fetchall():
        if not effect:
            continue
        for ch in apsw.Changeset.iter(effect):
            if ch.name == tbl and ch.op == "DELETE" and ch.old is not None and ch.old[0] == row_id:
                return dict(zip(table(tbl).column_names(), ch.old, strict=False))
    return None


def _apply(conn: apsw.Connection, c: ConflictRow, choice: str, value: Any) -> Any:
    t = table(c.tbl)
    if c.kind in ("field", "insert_exists"):
        assert c.column_name is not None
        chosen = {"tablet": c.tablet_value, "server": c.server_value}.get(choice, value)
        try:
            validate_row(c.tbl, {c.column_name: chosen}, partial=True)
        except SchemaError as exc:
            raise BadRequest(str(exc), code=exc.code) from None
        conn.execute(f'UPDATE "{c.tbl}" SET "{c.column_name}" = ? WHERE id = ?', (chosen, c.row_id))
        return chosen
    if c.kind == "edited_after_delete" and choice == "tablet":
        base = _last_full_row(conn, c.tbl, c.row_id)
        if base is None:
            raise BadRequest("找不到被删除的原记录 (the deleted row is not in the ledger)", code="row_unrecoverable")
        base.update(c.tablet_value or {})
        cols = [n for n in t.column_names() if n in base]
        conn.execute(f'INSERT INTO "{c.tbl}" ({", ".join(chr(34) + n + chr(34) for n in cols)}) VALUES '
                     f'({", ".join("?" * len(cols))})', tuple(base[n] for n in cols))
        return base
    if c.kind == "deleted_after_edit" and choice == "tablet":
        conn.execute(f'DELETE FROM "{c.tbl}" WHERE id = ?', (c.row_id,))
        return None
    if choice == "value":
        raise BadRequest("只有字段冲突可以指定值 (a value may be given only for a field conflict)",
                         code="bad_choice")
    return None  # "server": the server's state already stands


def resolve(conn: apsw.Connection, conflict_id: int, *, choice: str, value: Any = None, actor: str,
            now: datetime) -> ConflictRow:
    """Resolve a conflict with the tablet's value, the server's, or a given value (ledgered)."""
    if choice not in CHOICES:
        raise BadRequest(f"choice must be one of {', '.join(CHOICES)}", code="bad_choice")
    c = get_conflict(conn, conflict_id)
    if c.status != "open":
        raise BadRequest(f"冲突 {conflict_id} 已处理 (conflict already resolved)", code="already_resolved")
    try:
        with ledgered(conn, kind="resolution", actor=actor, now=now, device_id=c.device_id) as tx:
            chosen = _apply(conn, c, choice, value)
            if c.tbl in ROW_RULE_TABLES:  # the chosen value beside the row's other columns (schema.row_rules)
                try:
                    check_stored(conn, [(c.tbl, c.row_id)])
                except Refusal as exc:
                    raise BadRequest(str(exc), code=exc.code) from None
            tx.touch(c.tbl, c.row_id)  # tablets hear of the resolution even when it confirms their row
            conn.execute(
                "UPDATE conflicts SET status = 'resolved', resolution = ?, resolved_value = ?, resolved_by = ?,"
                " resolved_at = ? WHERE id = ?", (choice, encode_value(chosen), actor, iso(now), conflict_id))
            tx.summary = {"conflict_id": conflict_id, "choice": choice, "tbl": c.tbl, "row_id": c.row_id,
                          "column": c.column_name}
    except apsw.ConstraintError as exc:
        raise BadRequest(f"该值不符合约束 (value breaks a constraint): {exc}", code="invalid_value") from None
    return get_conflict(conn, conflict_id)


def already_settled(conn: apsw.Connection, tbl: str, row_id: str, column: str, base: Any, tablet: Any,
                    server: Any) -> bool:
    """True when a person already resolved this very disagreement and the server holds their answer.

    Another tablet that made the same edit from the same base then does not raise it again.
    """
    for (rv,) in conn.execute(
        "SELECT resolved_value FROM conflicts WHERE tbl = ? AND row_id = ? AND column_name = ? AND status ="
        " 'resolved' AND base_value = ? AND tablet_value = ?",
        (tbl, row_id, column, encode_value(base), encode_value(tablet)),
    ):
        if json.loads(str(rv)) == server:
            return True
    return False
