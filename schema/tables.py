"""The registry: the one place that lists laogan's tables.

Everything that needs a list of tables or columns (DDL, scope checks, masking, Datasette metadata,
reports, checksums, the data generator) reads it from here.
"""

from __future__ import annotations

from typing import Literal

from schema.audit_tables import AUDIT_TABLES
from schema.domain_tables import DOMAIN_TABLES
from schema.errors import UnknownColumn, UnknownTable
from schema.model import Column, Table
from schema.server_tables import MACHINE_TABLES
from schema.summary_tables import SUMMARY_TABLES

DbKind = Literal["central", "tablet"]

TABLES: tuple[Table, ...] = DOMAIN_TABLES + MACHINE_TABLES + AUDIT_TABLES + SUMMARY_TABLES
_BY_NAME = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """The registry record of ``name``; raises :class:`UnknownTable`."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownTable(name) from None


def column(table_name: str, column_name: str) -> Column:
    t = table(table_name)
    try:
        return t.column(column_name)
    except KeyError:
        raise UnknownColumn(table_name, column_name) from None


def tables_for(kind: DbKind) -> tuple[Table, ...]:
    """Tables present in a central or a tablet database, in creation (dependency) order."""
    if kind == "central":
        return tuple(t for t in TABLES if t.on_server)
    return tuple(t for t in TABLES if t.on_tablet)


def synced_tables() -> tuple[Table, ...]:
    """Tables that move between tablets and the server, in dependency order."""
    return tuple(t for t in TABLES if t.synced)


def derived_tables() -> tuple[Table, ...]:
    """Central-only summaries kept by their own triggers (never synced, ledgered or logged)."""
    return tuple(t for t in TABLES if t.sync == "derived")


def uploadable_tables() -> tuple[Table, ...]:
    """Tables a tablet may write (and so upload)."""
    return tuple(t for t in TABLES if t.sync == "both")


def personal_columns() -> dict[str, tuple[str, ...]]:
    """Table name -> its personal-data columns (only tables that have any)."""
    return {t.name: t.personal_columns() for t in TABLES if t.personal_columns()}


def pull_shape_changes(version: int) -> bool:
    """Whether schema ``version`` changes what a pull brings a tablet: a new synced table or column, or
    rows only that version can hold (:attr:`Table.rows_since`). A tablet migrating across such a version
    pulls everything again (its cursor was reached without them)."""
    return any(t.synced and (t.added_in == version or any(c.added_in == version for c in t.columns)
                             or any(v == version for v, _ in t.rows_since)) for t in TABLES)
