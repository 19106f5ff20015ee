"""What crosses the network, as msgspec Structs, and the protocol version.

Binary bodies (changeset envelopes) are described in ``schema/envelope.py`` and ``docs/protocol.md``;
everything else is JSON with these shapes. Unknown fields are refused.
"""

from __future__ import annotations

from typing import Any

import msgspec

PROTOCOL_VERSION = 1
ENVELOPE_MEDIA_TYPE = "application/vnd.laogan.envelope"
PULL_SCHEMA_PARAM = "schema"
"""Query parameter of ``GET /v1/changes``: the tablet's schema version; the page holds the tables,
columns and rows a database at that version has (see ``server/pull.py``)."""
PULL_SCHEMA_UNSTATED = 3
"""The schema version of a pull that does not state one: tablets before version 4 never sent it, and
versions 1 to 3 share one synced shape."""


class EnrollRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: str
    sign_pub: str
    """Device Ed25519 public key, 32 bytes, base64url without padding."""
    box_pub: str
    """Device X25519 (HPKE) public key, 32 bytes, base64url without padding."""
    label: str = ""


class EnrollResponse(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    device_id: str
    unit_id: str
    unit_code: str
    scope_unit_ids: list[str]
    server_sign_pub: str
    server_box_pub: str
    cursor: int
    schema_version: int
    protocol_version: int = PROTOCOL_VERSION


class TableCounts(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    insert: int = 0
    update: int = 0
    delete: int = 0


class Receipt(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    device_id: str
    seq: int
    status: str
    """applied | merged | conflicted | quarantined"""
    upload_id: int
    counts: dict[str, TableCounts]
    conflicts: int
    cursor: int
    """The server's change cursor after this upload."""
    reason: str | None = None


class ErrorDetail(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: str
    message: str
    expected_seq: int | None = None


class ErrorBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    error: ErrorDetail


class Health(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    status: str
    schema_version: int
    protocol_version: int = PROTOCOL_VERSION


class ConflictOut(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: int
    upload_id: int
    device_id: str
    unit_id: str | None
    tbl: str
    row_id: str
    column: str | None
    kind: str
    base_value: Any
    server_value: Any
    tablet_value: Any
    provisional: str
    status: str
    created_at: str
    resolution: str | None = None
    resolved_value: Any = None
    resolved_by: str | None = None
    resolved_at: str | None = None


class ConflictList(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    conflicts: list[ConflictOut]
    count: int


class ResolveRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    choice: str
    """tablet | server | value"""
    value: Any = None
