"""Check a row against the registry before it reaches SQLite, and explain SQLite's own refusals.

``validate_row`` names the table, column and value that break a rule; ``constraint_from_message``
turns a ``CHECK constraint failed: table.column#n`` message (the DDL names every CHECK that way)
back into the table and column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime

from schema.errors import InvalidValue, UnknownColumn
from schema.model import Column
from schema.tables import table

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CHECK = re.compile(r"CHECK constraint failed: ([a-z_]+)\.([a-z_]+)#\d+")
_NOTNULL = re.compile(r"NOT NULL constraint failed: ([a-z_]+)\.([a-z_]+)")


def _problem(c: Column, v: object) -> str | None:
    if v is None:
        return "required" if c.required and c.default is None else None
    k = c.kind
    if isinstance(v, int) and not isinstance(v, bool) and not -(2**63) <= v < 2**63:
        return "out of the 64-bit integer range"
    if isinstance(v, float) and not math.isfinite(v):
        return "must be a finite number"
    if k in ("bool",):
        return None if v in (0, 1) and not isinstance(v, float) else "must be 0 or 1"
    if k == "int":
        if not isinstance(v, int) or isinstance(v, bool):
            return "must be an integer"
    elif k == "real":
        if not isinstance(v, int | float) or isinstance(v, bool):
            return "must be a number"
    elif k == "blob":
        return None if isinstance(v, bytes) else "must be bytes"
    elif not isinstance(v, str):
        return "must be text"
    if k == "uuid" and not _UUID.match(str(v)):
        return "must be a lower-case UUID"
    if k == "date":
        try:
            if date.fromisoformat(str(v)).isoformat() != v:
                return "must be a date YYYY-MM-DD"
        except ValueError:
            return "must be a date YYYY-MM-DD"
    if k == "datetime":
        try:
            datetime.fromisoformat(str(v))
        except ValueError:
            return "must be a date-time YYYY-MM-DD HH:MM:SS"
    if c.enum is not None and v not in c.enum.codes():
        return "must be one of " + ", ".join(c.enum.codes())
    if k == "text" and c.required and v == "":
        return "must not be empty"
    if isinstance(v, int | float) and not isinstance(v, bool):
        if c.min_value is not None and v < c.min_value:
            return f"must be at least {c.min_value}"
        if c.max_value is not None and v > c.max_value:
            return f"must be at most {c.max_value}"
    return None


def validate_row(table_name: str, row: Mapping[str, object], *, partial: bool = False) -> None:
    """Raise :class:`InvalidValue` for the first value that breaks the registry's rules.

    With ``partial`` (an update), columns absent from ``row`` are not checked for presence.
    """
    t = table(table_name)
    names = set(t.column_names())
    for key in row:
        if key not in names:
            raise UnknownColumn(table_name, key)
    for c in t.columns:
        if partial and c.name not in row:
            continue
        v = row.get(c.name)
        why = _problem(c, v)
        if why is not None:
            raise InvalidValue(table_name, c.name, v, why)


def constraint_from_message(message: str) -> tuple[str, str] | None:
    """(table, column) named by an SQLite CHECK / NOT NULL failure message, if it names one."""
    m = _CHECK.search(message) or _NOTNULL.search(message)
    return (m.group(1), m.group(2)) if m else None
