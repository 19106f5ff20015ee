"""The tablet's ``sync_state`` keys and the read-only views built from them and from the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from schema.keys import b64d, ed25519_public_from_raw, x25519_public_from_raw
from sync.errors import NotEnrolled

DEVICE_ID = "device_id"
UNIT_ID = "unit_id"
UNIT_CODE = "unit_code"
SERVER_URL = "server_url"
SERVER_SIGN_PUB = "server_sign_pub"
SERVER_BOX_PUB = "server_box_pub"
CURSOR = "cursor"
LAST_SYNC_AT = "last_sync_at"
CURSOR_MARK = "cursor_mark"
"""The server's mark of the pull cursor (``X-Laogan-Mark``), sent back with it: a server restored from
a backup knows from it that the cursor is not its own and starts the tablet over."""

STATE_KEYS: tuple[str, ...] = (
    DEVICE_ID, UNIT_ID, UNIT_CODE, SERVER_URL, SERVER_SIGN_PUB, SERVER_BOX_PUB, CURSOR, LAST_SYNC_AT, CURSOR_MARK,
)
"""Every key ``sync_state`` may hold; anything else is a programming error."""

ENROLMENT_KEYS: tuple[str, ...] = (DEVICE_ID, UNIT_ID, SERVER_URL, SERVER_SIGN_PUB, SERVER_BOX_PUB)


@dataclass(frozen=True)
class Enrolment:
    """Who this tablet is and which server it talks to (public values only)."""

    device_id: str
    unit_id: str
    server_url: str
    server_sign_pub: str
    """Server Ed25519 key, base64url without padding."""
    server_box_pub: str
    """Server X25519 key, base64url without padding."""

    @classmethod
    def from_state(cls, state: dict[str, str | None]) -> Enrolment:
        missing = [k for k in ENROLMENT_KEYS if not state.get(k)]
        if missing:
            raise NotEnrolled(
                "平板尚未登记,请先运行 laogan tablet init (tablet not enrolled; run `laogan tablet init`)"
            )
        return cls(*(str(state[k]) for k in ENROLMENT_KEYS))

    def server_sign_key(self) -> Ed25519PublicKey:
        return ed25519_public_from_raw(b64d(self.server_sign_pub))

    def server_box_key(self) -> X25519PublicKey:
        return x25519_public_from_raw(b64d(self.server_box_pub))


@dataclass(frozen=True)
class Status:
    """What ``laogan tablet status`` shows."""

    device_id: str | None
    unit_id: str | None
    server_url: str | None
    pending: int
    """Outbox rows not yet accepted by the server."""
    sent: int
    cursor: int
    last_sync_at: str | None
    schema_version: int


@dataclass(frozen=True)
class OutboxEntry:
    """One captured transaction waiting for (or done with) upload."""

    seq: int
    captured_at: str
    changeset: bytes
    envelope: bytes | None
    """The sealed bytes, once sealed; every retry sends exactly these."""
    status: str
    sent_at: str | None
    receipt: str | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> OutboxEntry:
        seq, captured_at, changeset, envelope, status, sent_at, receipt = row
        return cls(int(seq), str(captured_at), bytes(changeset), None if envelope is None else bytes(envelope),
                   str(status), sent_at, receipt)
