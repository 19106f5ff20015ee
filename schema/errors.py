"""Errors of the contract package.

::

    SchemaError                      base of everything raised by ``schema``
    ├── UnknownTable                 a table name the registry does not know
    ├── UnknownColumn                a column name the table does not have
    ├── InvalidValue                 a value breaks a column's type, enum or constraint
    ├── MigrationError               the database is at a version the code cannot reach
    ├── EnvelopeError                an envelope failed a check (one opaque error; see envelope.py)
    ├── AuthError                    a request signature failed (schema/auth.py; one opaque error)
    └── KeyFileError                 a key file is missing, malformed or readable by others (schema/keys.py)

Every class carries a stable machine ``code``; only ``server/errors.py`` maps codes to HTTP.
"""

from __future__ import annotations


class SchemaError(Exception):
    """Base class of every error raised by the schema package."""

    code = "schema_error"


class UnknownTable(SchemaError):
    """A table name the registry does not know."""

    code = "unknown_table"

    def __init__(self, table: str) -> None:
        super().__init__(f"unknown table {table!r}")
        self.table = table


class UnknownColumn(SchemaError):
    """A column name that the table does not have."""

    code = "unknown_column"

    def __init__(self, table: str, column: str) -> None:
        super().__init__(f"table {table!r} has no column {column!r}")
        self.table = table
        self.column = column


class InvalidValue(SchemaError):
    """A value breaks a column's type, enumeration or constraint."""

    code = "invalid_value"

    def __init__(self, table: str, column: str, value: object, reason: str) -> None:
        super().__init__(f"{table}.{column} = {value!r}: {reason}")
        self.table = table
        self.column = column
        self.value = value
        self.reason = reason


class MigrationError(SchemaError):
    """The database is at a schema version this code cannot migrate."""

    code = "migration_error"


class EnvelopeError(SchemaError):
    """An envelope failed a check; deliberately says no more than its code."""

    code = "envelope_invalid"

    def __init__(self, code: str = "envelope_invalid", message: str = "envelope rejected") -> None:
        super().__init__(message)
        self.code = code
