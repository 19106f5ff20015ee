"""Import the organisation (组织架构) from CSV: the unit tree, the staff, the service menu.

A fresh central database (``laogan server init``) holds no unit, yet tablets enrol into a unit and the
roster import (:mod:`server.roster_import`) names units by code: the unit tree comes first.

* **Units** — columns ``code`` (单位代码), ``name`` (单位名称), ``level`` (单位层级: a code or its Chinese
  label) and ``parent_code`` (上级单位代码, empty for the top unit). A code already on file is updated
  (name, level), a new one inserted; a parent may be later in the file or already on file. An unknown
  parent, a loop or a unit under one of its own level or lower (a county under a township) refuses
  the file, and so does **moving** a unit already on file to another parent:
  its rows are on the tablets of its old parent, and nothing would take them off (a file without a
  ``parent_code`` column keeps every known unit's parent).
* **Staff** — columns ``unit_code`` (单位代码), ``name`` (姓名), ``role`` (工作人员类型), ``phone`` (电话),
  ``active`` (在岗), optionally ``id`` (编号). A row with an id updates that staff member; a row without
  one updates the one staff member of that name in that unit, or adds a new one (active unless the
  file says otherwise). A column the file leaves out is left as it is.
* **Menu** — :func:`ensure_menu` adds each item of the seed's service menu (订单式服务菜单, the registry's
  ``menu_item`` enumeration) that is missing, in the enumeration's order.

Headers may be the registry's column names or their Chinese labels, as for the roster. Every row is
checked against the registry first: one bad value refuses the whole file — the error names the line —
and nothing is written. Each import is one ledgered transaction, so the rows reach the tablets' pulls.
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

from schema import enums as E
from schema.errors import InvalidValue, SchemaError, UnknownColumn
from schema.tables import table
from schema.validate import validate_row
from server.ledger import ledgered
from server.roster_import import convert

_PARENT = ("parent_code", "上级单位代码")
_RANK = {"province": 0, "city": 1, "county": 2, "township": 3, "department": 3}
"""How high each unit level is: a parent's rank is lower than its child's (departments sit under a
county, a city or the province, as townships under a county)."""
_UNIT = ("unit_code", "单位代码")


class OrgImportError(SchemaError):
    """An organisation file that cannot be imported (the message names the line)."""

    code = "import_refused"


@dataclass(frozen=True)
class OrgResult:
    inserted: int
    updated: int
    unchanged: int


def _line(n: int, message: str) -> OrgImportError:
    return OrgImportError(f"第{n}行 line {n}: {message}")


def _read(text: str, table_name: str, extra: tuple[str, str]) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) of a CSV whose headers are ``table_name``'s columns, their Chinese labels, or
    ``extra`` (an English and a Chinese name of one more column, kept under the English one)."""
    t = table(table_name)
    names = {c.name: c.name for c in t.columns} | {c.zh: c.name for c in t.columns} | dict.fromkeys(extra, extra[0])
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise OrgImportError("空文件 (empty file)") from None
    unknown = [h for h in header if h not in names]
    if unknown:
        raise _line(1, f"未知的列 unknown column {unknown[0]!r}")
    cols = [names[h] for h in header]
    out: list[tuple[int, dict[str, Any]]] = []
    for n, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(cols):
            raise _line(n, f"{len(values)} 个值,应为 {len(cols)} (expected {len(cols)} values)")
        out.append((n, {c: (v.strip() or None) if c == extra[0] else convert(table_name, c, v)
                        for c, v in zip(cols, values, strict=True)}))
    return out


def _check(table_name: str, n: int, row: dict[str, Any], required: tuple[str, ...]) -> None:
    try:
        validate_row(table_name, {**row, "id": row.get("id") or "00000000-0000-4000-8000-000000000000"},
                     partial=True)
        for name in required:
            if row.get(name) is None:
                raise InvalidValue(table_name, name, None, "required")
    except (InvalidValue, UnknownColumn) as exc:
        raise _line(n, str(exc)) from None


def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def import_units(conn: apsw.Connection, text: str, *, actor: str, now: datetime, rng: random.Random) -> OrgResult:
    """Insert or update the units of a CSV (see the module docstring)."""
    rows = _read(text, "units", _PARENT)
    known = conn.execute("SELECT code, id, parent_id, level FROM units").fetchall()
    on_file = {str(r[0]): (str(r[1]), None if r[2] is None else str(r[2])) for r in known}
    codes: dict[str, int] = {}
    for n, row in rows:
        _check("units", n, {k: v for k, v in row.items() if k != "parent_code"}, ("code", "name", "level"))
        if row["code"] in codes:
            raise _line(n, f"单位代码重复 duplicate unit code {row['code']} (first on line {codes[row['code']]})")
        codes[row["code"]] = n
    ids = {code: on_file[code][0] if code in on_file else _new_id(rng) for code in codes}
    ids |= {code: v[0] for code, v in on_file.items() if code not in ids}
    code_of = {unit_id: code for code, (unit_id, _) in on_file.items()}
    parent: dict[str, str | None] = {code: None if p is None else code_of[p] for code, (_, p) in on_file.items()}
    has_parent = any("parent_code" in row for _, row in rows)
    for n, row in rows:
        code = row["code"]
        p = row.get("parent_code") if has_parent else parent.get(code)
        if p is not None and p not in ids:
            raise _line(n, f"上级单位代码 {p} 不存在 (no unit with parent code {p})")
        if code in on_file and p != parent[code]:
            raise _line(n, f"单位 {code} 已有上级 {parent[code] or '(无)'},不能改为 {p or '(无)'} (moving a unit to another "
                           "parent is not supported: the old parent's tablets would keep its rows)")
        parent[code] = p
    for n, row in rows:  # every chain must reach a top unit
        seen, code = {row["code"]}, parent[row["code"]]
        while code is not None:
            if code in seen:
                raise _line(n, f"上级单位形成循环 (the parent codes loop back to {code})")
            seen.add(code)
            code = parent[code]
    levels = {str(r[0]): str(r[3]) for r in known} | {row["code"]: row["level"] for _, row in rows}
    for n, row in rows:  # a unit sits below a unit of a higher level (a township under a county, …)
        p = parent[row["code"]]
        if p is not None and _RANK[levels[p]] >= _RANK[row["level"]]:
            raise _line(n, f"{row['code']} ({E.UNIT_LEVEL.label(row['level'])}) 不能在 {p} "
                           f"({E.UNIT_LEVEL.label(levels[p])}) 之下 (a unit must sit below a unit of a higher level)")
        if row["code"] in on_file:  # and the units already below it stay below
            for (child,) in conn.execute("SELECT code FROM units WHERE parent_id = ?", (ids[row["code"]],)):
                if _RANK[levels[str(child)]] <= _RANK[row["level"]]:
                    raise _line(n, f"{row['code']} 下有 {child} ({E.UNIT_LEVEL.label(levels[str(child)])}),层级不能改为 "
                                   f"{E.UNIT_LEVEL.label(row['level'])} (a unit below it would no longer be lower)")
    inserted = updated = unchanged = 0
    with ledgered(conn, kind="import", actor=actor, now=now) as tx:
        done: set[str] = set()

        def write(code: str, row: dict[str, Any]) -> None:
            nonlocal inserted, updated, unchanged
            p = parent[code]
            if p is not None and p in codes and p not in done:
                write(p, by_code[p])
            if code in done:
                return
            done.add(code)
            values = (row["name"], row["level"], None if p is None else ids[p])
            if code not in on_file:
                conn.execute("INSERT INTO units (id, code, name, level, parent_id) VALUES (?,?,?,?,?)",
                             (ids[code], code, *values))
                inserted += 1
                return
            cur = conn.execute("SELECT name, level, parent_id FROM units WHERE code = ?", (code,)).fetchone()
            if cur is not None and tuple(cur) == values:
                unchanged += 1
                return
            conn.execute("UPDATE units SET name = ?, level = ?, parent_id = ? WHERE code = ?", (*values, code))
            updated += 1

        by_code = {row["code"]: row for _, row in rows}
        for _, row in rows:
            write(row["code"], row)
        tx.summary = {"event": "units import", "inserted": inserted, "updated": updated, "unchanged": unchanged}
    return OrgResult(inserted, updated, unchanged)


def import_staff(conn: apsw.Connection, text: str, *, default_unit: str | None, actor: str, now: datetime,
                 rng: random.Random) -> OrgResult:
    """Insert or update the staff of a CSV (see the module docstring)."""
    rows = _read(text, "staff", _UNIT)
    units = {str(r[0]): str(r[1]) for r in conn.execute("SELECT code, id FROM units")}
    plan: list[tuple[str | None, dict[str, Any]]] = []
    for n, row in rows:
        code = row.pop("unit_code", None) or default_unit
        if code is None:
            raise _line(n, "没有单位 (no unit: give a unit_code column or --unit)")
        if code not in units:
            raise _line(n, f"没有代码为 {code} 的单位 (no unit with code {code})")
        row["unit_id"] = units[code]
        if "active" in row and row["active"] is None:
            del row["active"]  # an empty cell keeps the staff member's state (a new one is active)
        _check("staff", n, row, ("name", "role"))
        staff_id = row.pop("id", None)
        if staff_id is None:
            same = conn.execute("SELECT id FROM staff WHERE unit_id = ? AND name = ?",
                                (row["unit_id"], row["name"])).fetchall()
            if len(same) > 1:
                raise _line(n, f"单位 {code} 有 {len(same)} 名同名工作人员,请给出编号 (give the id: several staff "
                               "of that name in the unit)")
            staff_id = str(same[0][0]) if same else None
        plan.append((staff_id, row))
    cols = ("unit_id", "name", "phone", "role", "active")
    inserted = updated = unchanged = 0
    with ledgered(conn, kind="import", actor=actor, now=now) as tx:
        for staff_id, row in plan:
            cur = None if staff_id is None else conn.execute(
                f"SELECT {', '.join(cols)} FROM staff WHERE id = ?", (staff_id,)).fetchone()
            if cur is None:
                row = {"active": 1, **row}
                names = [c for c in cols if c in row]
                conn.execute(f"INSERT INTO staff (id, {', '.join(names)}) VALUES (?{', ?' * len(names)})",
                             (staff_id or _new_id(rng), *(row[c] for c in names)))
                inserted += 1
                continue
            changed = {c: row[c] for c in cols if c in row and dict(zip(cols, cur, strict=True))[c] != row[c]}
            if not changed:
                unchanged += 1
                continue
            conn.execute(f"UPDATE staff SET {', '.join(f'{c} = ?' for c in changed)} WHERE id = ?",
                         (*changed.values(), staff_id))
            updated += 1
        tx.summary = {"event": "staff import", "inserted": inserted, "updated": updated, "unchanged": unchanged}
    return OrgResult(inserted, updated, unchanged)


def ensure_menu(conn: apsw.Connection, *, actor: str, now: datetime, rng: random.Random) -> OrgResult:
    """Add each item of the service menu (订单式服务菜单) that is missing, in the enumeration's order."""
    have = {str(r[0]) for r in conn.execute("SELECT item FROM service_menu")}
    missing = [(i, v.code) for i, v in enumerate(E.MENU_ITEM.values) if v.code not in have]
    if missing:
        with ledgered(conn, kind="import", actor=actor, now=now) as tx:
            for order, item in missing:
                conn.execute("INSERT INTO service_menu (id, item, sort_order) VALUES (?,?,?)",
                             (_new_id(rng), item, order))
            tx.summary = {"event": "service menu", "inserted": len(missing)}
    return OrgResult(len(missing), 0, len(have))
