"""Signed request headers: how a device proves who it is on requests that carry no envelope.

There are no bearer secrets.  A device signs, with its Ed25519 key, the UTF-8 bytes of::

    METHOD \\n PATH_WITH_QUERY \\n TIMESTAMP \\n DEVICE_ID \\n hex(sha256(body))

and sends ``Authorization: Laogan-Sig device=<uuid>,ts=<unix seconds>,sig=<base64url>``.
The server parses the header strictly, looks up the device's key by ``device``, and calls
:func:`verify_request` with its own clock reading ``now``.  Every failure of parsing or
verifying raises the same :class:`AuthError` code.  See ``docs/protocol.md``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schema.errors import SchemaError
from schema.keys import b64d, b64e

__all__ = [
    "AUTH_SCHEME",
    "MAX_SKEW",
    "AuthError",
    "AuthHeader",
    "canonical_request",
    "parse_auth_header",
    "sign_request",
    "verify_request",
]

AUTH_SCHEME = "Laogan-Sig"
MAX_SKEW = 300
"""Seconds a request timestamp may differ from the server's clock, either way."""

_MAX_HEADER_LEN = 256
_MAX_PATH_LEN = 8192
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_TS = r"0|[1-9][0-9]{0,11}"
_HEADER_RE = re.compile(
    rf"{AUTH_SCHEME} device=(?P<device>{_UUID}),ts=(?P<ts>{_TS}),sig=(?P<sig>[A-Za-z0-9_-]{{86}})"
)
_METHOD_RE = re.compile(r"[A-Z]{1,16}")
_PATH_RE = re.compile(r"/[\x21-\x7e]*")
_UUID_RE = re.compile(_UUID)


class AuthError(SchemaError):
    """A request signature was malformed, outside the time window, or did not verify."""

    code = "auth_failed"

    def __init__(self, message: str = "request signature rejected") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class AuthHeader:
    """The parsed ``Authorization`` value: who claims to sign, when, and the signature."""

    device_id: str
    timestamp: int
    signature: bytes


def canonical_request(method: str, path_qs: str, timestamp: int, device_id: str, body: bytes) -> bytes:
    """The exact bytes a device signs; ValueError if a part could make the string ambiguous."""
    if not _METHOD_RE.fullmatch(method):
        raise ValueError("method must be 1-16 uppercase ASCII letters")
    if len(path_qs) > _MAX_PATH_LEN or not _PATH_RE.fullmatch(path_qs):
        raise ValueError("path must start with '/' and be printable ASCII without spaces")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp < 10**12:
        raise ValueError("timestamp must be a non-negative integer of at most 12 digits")
    if not _UUID_RE.fullmatch(device_id):
        raise ValueError("device id must be a canonical lowercase UUID")
    digest = hashlib.sha256(body).hexdigest()
    return f"{method}\n{path_qs}\n{timestamp}\n{device_id}\n{digest}".encode("ascii")


def sign_request(
    signing_key: Ed25519PrivateKey,
    *,
    device_id: str,
    method: str,
    path_qs: str,
    body: bytes = b"",
    now: int,
) -> str:
    """The ``Authorization`` header value for a request made at time ``now``."""
    message = canonical_request(method, path_qs, now, device_id, body)
    signature = b64e(signing_key.sign(message))
    return f"{AUTH_SCHEME} device={device_id},ts={now},sig={signature}"


def parse_auth_header(value: str) -> AuthHeader:
    """Strictly parse an ``Authorization`` value: exact scheme, order, case, no spaces or extras."""
    if not isinstance(value, str) or len(value) > _MAX_HEADER_LEN:
        raise AuthError("malformed authorization header")
    match = _HEADER_RE.fullmatch(value)
    if match is None:
        raise AuthError("malformed authorization header")
    try:
        signature = b64d(match["sig"])
    except ValueError:
        raise AuthError("malformed authorization header") from None
    if len(signature) != 64:  # pragma: no cover - 86 canonical characters are always 64 bytes
        raise AuthError("malformed authorization header")
    return AuthHeader(device_id=match["device"], timestamp=int(match["ts"]), signature=signature)


def verify_request(
    parsed: AuthHeader,
    public_key: Ed25519PublicKey,
    method: str,
    path_qs: str,
    body: bytes,
    now: int,
    max_skew: int = MAX_SKEW,
) -> None:
    """Raise :class:`AuthError` unless the timestamp is within ``max_skew`` of ``now`` and the
    signature by ``public_key`` covers exactly this method, raw path and query, and body."""
    if abs(now - parsed.timestamp) > max_skew:
        raise AuthError()
    try:
        message = canonical_request(method, path_qs, parsed.timestamp, parsed.device_id, body)
        public_key.verify(parsed.signature, message)
    except (ValueError, InvalidSignature):
        raise AuthError() from None
