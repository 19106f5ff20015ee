"""Import a roster (花名册) from CSV: the county office's bulk change to the service database.

Headers may be the registry's column names or their Chinese labels; enumerations may be codes or
Chinese labels; flags 1/0, 是/否, true/false. A row whose ID number (身份证号) is already on file
updates that retiree (and the change is kept in ``roster_history``); a new one is inserted. Every row
is checked against the registry first: one bad value refuses the whole file, naming the line, table,
column and value, and nothing is written. The import is one ledgered transaction.
"""

from __future__ import annotations

import csv
import io
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import apsw

from schema.errors import InvalidValue, SchemaError, UnknownColumn
from schema.tables import table
from schema.validate import constraint_from_message, validate_row
from server.devices import unit_by_code
from server.ledger import iso, ledgered

_TRUE = {"1", "是", "true", "yes", "y", "t"}
_FALSE = {"0", "否", "false", "no", "n", "f", ""}
_SKIP_ON_UPDATE = {"id"}


class RosterImportError(SchemaError):
    """A roster file that cannot be imported (the message names the line)."""

    code = "import_refused"


@dataclass(frozen=True)
class ImportResult:
    inserted: int
    updated: int
    unchanged: int
    history_rows: int


def _header_map() -> dict[str, str]:
    t = table("retirees")
    out = {c.name: c.name for c in t.columns}
    out.update({c.zh: c.name for c in t.columns})
    out.update({"unit_code": "unit_code", "单位代码": "unit_code"})
    return out


def convert(table_name: str, column: str, raw: str) -> Any:
    """A CSV cell as the value for ``column`` of ``table_name``: flags 1/0, 是/否, true/false; enumeration
    codes or Chinese labels; integers; empty → NULL. A value it cannot read is passed on as it is, for
    validation to name."""
    c = table(table_name).column(column)
    v = raw.strip()
    if c.kind == "bool":
        if v.lower() in _TRUE:
            return 1
        if v.lower() in _FALSE:
            return 0
        return v
    if v == "":
        return None
    if c.enum is not None:
        for ev in c.enum.values:
            if v in (ev.code, ev.zh):
                return ev.code
        return v
    if c.kind == "int":
        try:
            return int(v)
        except ValueError:
            return v
    return v


def parse_rows(text: str, *, default_unit: str | None, conn: apsw.Connection) -> list[dict[str, Any]]:
    """CSV text → validated retiree rows (without ids for new people); raises naming the line."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise RosterImportError("空文件 (empty file)") from None
    names = _header_map()
    cols = []
    for h in header:
        key = h.strip().lstrip("\ufeff")
        if key not in names:
            raise RosterImportError(f"第1行 line 1: 未知的列 unknown column {key!r}")
        cols.append(names[key])
    units: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for lineno, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(cols):
            raise RosterImportError(f"第{lineno}行 line {lineno}: {len(values)} 个值,应为 {len(cols)} (expected {len(cols)} values)")
        row: dict[str, Any] = {}
        unit_code = default_unit
        for col, raw in zip(cols, values, strict=True):
            if col == "unit_code":
                unit_code = raw.strip() or default_unit
            else:
                row[col] = convert("retirees", col, raw)
        if "unit_id" not in row or row["unit_id"] is None:
            if unit_code is None:
                raise RosterImportError(f"第{lineno}行 line {lineno}: 没有单位 (no unit: give a unit_code column or --unit)")
            if unit_code not in units:
                units[unit_code] = unit_by_code(conn, unit_code)[0]
            row["unit_id"] = units[unit_code]
        try:
            validate_row("retirees", {**row, "id": row.get("id") or "00000000-0000-4000-8000-000000000000"},
                         partial=True)
            for required in ("name", "birth_date", "id_number", "category", "sex"):
                if row.get(required) is None:
                    raise InvalidValue("retirees", required, None, "required")
        except (InvalidValue, UnknownColumn) as exc:
            raise RosterImportError(f"第{lineno}行 line {lineno}: {exc}") from None
        rows.append(row)
    return rows


def import_roster(conn: apsw.Connection, text: str, *, default_unit: str | None, actor: str, now: datetime,
                  rng: random.Random) -> ImportResult:
    rows = parse_rows(text, default_unit=default_unit, conn=conn)
    seen: set[str] = set()
    for r in rows:
        if r["id_number"] in seen:
            raise RosterImportError(f"身份证号重复 duplicate ID number in the file: {r['id_number'][:6]}…")
        seen.add(r["id_number"])
    try:
        return _write(conn, rows, actor=actor, now=now, rng=rng)
    except apsw.ConstraintError as exc:
        where = constraint_from_message(str(exc))
        raise RosterImportError(f"数据不符合约束,未导入任何记录 (constraint failed, nothing imported): "
                                f"{'.'.join(where) if where else exc}") from None


def _write(conn: apsw.Connection, rows: list[dict[str, Any]], *, actor: str, now: datetime,
           rng: random.Random) -> ImportResult:
    inserted = updated = unchanged = history = 0
    columns = table("retirees").column_names()
    with ledgered(conn, kind="import", actor=actor, now=now) as tx:
        for r in rows:
            cur = conn.execute(f"SELECT {', '.join(columns)} FROM retirees WHERE id_number = ?",
                               (r["id_number"],)).fetchone()
            if cur is None:
                r = {**r, "id": r.get("id") or str(uuid.UUID(int=rng.getrandbits(128), version=4))}
                names = list(r)
                conn.execute(f"INSERT INTO retirees ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                             tuple(r[n] for n in names))
                inserted += 1
                continue
            old = dict(zip(columns, cur, strict=True))
            changed = {k: v for k, v in r.items() if k not in _SKIP_ON_UPDATE and old.get(k) != v}
            if not changed:
                unchanged += 1
                continue
            conn.execute(f"UPDATE retirees SET {', '.join(f'{k} = ?' for k in changed)} WHERE id = ?",
                         (*changed.values(), old["id"]))
            for k, v in changed.items():
                conn.execute(
                    "INSERT INTO roster_history (id, unit_id, retiree_id, field, old_value, new_value, changed_at)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (str(uuid.UUID(int=rng.getrandbits(128), version=4)), r.get("unit_id", old["unit_id"]),
                     old["id"], k, None if old[k] is None else str(old[k]), None if v is None else str(v), iso(now)))
                history += 1
            updated += 1
        tx.summary = {"event": "roster import", "inserted": inserted, "updated": updated, "unchanged": unchanged}
    return ImportResult(inserted, updated, unchanged, history)
