"""The shapes the registry is made of: enumerations, columns, tables.

Frozen dataclasses only; ``tables.py`` and ``server_tables.py`` fill them in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["TEXT", "INTEGER", "REAL", "BLOB"]
Kind = Literal["text", "uuid", "date", "datetime", "bool", "int", "real", "enum", "blob", "json"]
Sync = Literal["both", "down", "server", "tablet", "derived"]
"""Where a table lives and how it moves.

both    on tablets and the server; tablets write it, changes flow both ways
down    on tablets and the server; only the server writes it, tablets pull it
server  only in the central database (devices, ledger, conflicts ...)
tablet  only in the tablet database (outbox, cursor ...)
derived only in the central database, computed from other tables by its own triggers (summaries for the
        auditors' queries, see :class:`Derivation`): never synced, ledgered or written by our code
"""
MergePolicy = Literal["latest", "server"]
"""How a same-column conflict picks its provisional winner (the conflict is queued either way).

latest  the later capture time wins; a tie goes to the server
server  the server's value stays (administrative columns)
"""


@dataclass(frozen=True)
class EnumValue:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Enum:
    name: str
    zh: str
    en: str
    values: tuple[EnumValue, ...]

    def codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.values)

    def label(self, code: str) -> str:
        for v in self.values:
            if v.code == code:
                return v.zh
        raise KeyError(code)


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    zh: str
    en: str
    required: bool = False
    enum: Enum | None = None
    references: str | None = None
    """Table whose ``id`` (or, for ``units``, ``id``) this column refers to."""
    personal: bool = False
    """Personal data: hidden from the ``auditor`` role and never published."""
    default: str | None = None
    """SQL literal used as DEFAULT (and for tablets one schema version behind)."""
    unique: bool = False
    min_value: int | None = None
    max_value: int | None = None
    merge: MergePolicy = "latest"
    added_in: int = 1

    @property
    def sql_type(self) -> ColumnType:
        if self.kind in ("bool", "int"):
            return "INTEGER"
        if self.kind == "real":
            return "REAL"
        if self.kind == "blob":
            return "BLOB"
        return "TEXT"


@dataclass(frozen=True)
class Index:
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None
    added_in: int = 1
    """Schema version whose migration creates it (an index, unlike a column, may be added later)."""
    central_only: bool = False
    """Only in the central database (indexes for the auditors' queries, which tablets never run)."""
    central_dropped_in: int | None = None
    """Schema version whose migration drops it from the central database (tablets keep it). It stays in
    the registry because the older migrations, which never change, create it."""
    dropped_in: int | None = None
    """Schema version whose migration drops it from both databases (e.g. a UNIQUE rule replaced by
    narrower ones). It stays in the registry for the same reason."""
    expressions: tuple[tuple[str, str], ...] = ()
    """``(name, SQL)`` for entries of ``columns`` that are expressions rather than columns, e.g.
    ``("birth_month", "substr(birth_date, 6, 2)")``: the name goes into the index's name, the SQL into
    its definition (a query's term must spell the expression the same way for SQLite to use it)."""

    def key_sql(self, quote: Callable[[str], str]) -> list[str]:
        """The index's key, one SQL term per entry of ``columns``."""
        exprs = dict(self.expressions)
        return [exprs.get(c) or quote(c) for c in self.columns]

    def present(self, kind: str, version: int) -> bool:
        """Whether a ``kind`` (``central`` or ``tablet``) database at schema ``version`` has this index."""
        if self.added_in > version or (self.central_only and kind != "central"):
            return False
        if self.dropped_in is not None and version >= self.dropped_in:
            return False
        dropped = self.central_dropped_in
        return not (kind == "central" and dropped is not None and version >= dropped)


@dataclass(frozen=True)
class Derivation:
    """How a ``derived`` table is computed: ``select`` gives its exact rows from scratch (in column order);
    ``triggers`` (``CREATE TRIGGER`` statements, central database only) keep it equal to ``select`` after
    every write of the tables it reads, whoever writes them."""

    select: str
    triggers: tuple[str, ...]

    def trigger_names(self) -> tuple[str, ...]:
        return tuple(s.split()[2] for s in self.triggers)


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    en: str
    description: str
    columns: tuple[Column, ...]
    sync: Sync
    scope: str | None = None
    """Column tying a row to its org unit (tablet scope). None: not unit-scoped."""
    shared_below: bool = False
    """A unit's rows also go, read-only, to the tablets of the units below it: reference data a township
    uses but its county (or any unit above) keeps — the unit chain itself, activity venues, community
    resources, party branches. Tablets may edit only the rows of their own units."""
    pk: str = "id"
    indexes: tuple[Index, ...] = field(default=())
    added_in: int = 1
    append_only: bool = False
    """Rows are never updated or deleted (ledger, logs)."""
    derivation: Derivation | None = None
    """For ``sync="derived"``: how its rows follow from other tables."""
    rows_since: tuple[tuple[int, str], ...] = ()
    """``(version, SQL condition on the row)``: rows meeting the condition exist only from schema
    ``version`` on — a tablet at an older version could not hold them (e.g. a second row under a UNIQUE
    index that version drops) — so a pull for such a tablet leaves them out."""

    def columns_at(self, version: int) -> tuple[Column, ...]:
        """The columns a database at schema ``version`` has (new columns are added at the end)."""
        return tuple(c for c in self.columns if c.added_in <= version)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def personal_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.personal)

    @property
    def on_tablet(self) -> bool:
        return self.sync in ("both", "down", "tablet")

    @property
    def on_server(self) -> bool:
        return self.sync in ("both", "down", "server", "derived")

    @property
    def synced(self) -> bool:
        return self.sync in ("both", "down")
