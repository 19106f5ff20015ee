"""Tables of the auditors' Datasette: credentials and the access log (central database only)."""

from __future__ import annotations

from schema.model import Table

AUDIT_TABLES: tuple[Table, ...] = ()
