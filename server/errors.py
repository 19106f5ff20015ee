"""Errors of the server package, and the one map from errors to HTTP statuses.

::

    ServerError                      base of everything raised by ``server``
    ├── BadRequest                   a request the server cannot read (400)
    ├── Unauthorized                 missing or failed authentication (401)
    ├── Forbidden                    authenticated, but not allowed: revoked device, out of scope (403)
    ├── NotFound                     no such resource (404)
    ├── SequenceConflict             an upload's sequence number is not the one expected (409)
    ├── PayloadTooLarge              a body over the configured limit (413)
    ├── RateLimited                  a device over its request rate (429, with Retry-After)
    ├── WriteFailed                  a group commit failed; nothing of the request was kept (503)
    └── ConfigError                  the server cannot start as configured (not an HTTP error)

``schema.errors.SchemaError`` subclasses reaching the HTTP layer are client mistakes (400), except
``EnvelopeError`` with ``bad_signature`` (401). Every error body is ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from schema.errors import EnvelopeError, SchemaError


class ServerError(Exception):
    """Base class of every error raised by the server package."""

    code = "server_error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class BadRequest(ServerError):
    """A request the server cannot read."""

    code = "bad_request"
    status = 400


class Unauthorized(ServerError):
    """Missing or failed authentication."""

    code = "unauthorized"
    status = 401


class Forbidden(ServerError):
    """Authenticated, but not allowed."""

    code = "forbidden"
    status = 403


class NotFound(ServerError):
    """No such resource."""

    code = "not_found"
    status = 404


class SequenceConflict(ServerError):
    """An upload's sequence number is not the one the server expects."""

    code = "sequence_conflict"
    status = 409

    def __init__(self, message: str, *, code: str | None = None, expected_seq: int | None = None) -> None:
        super().__init__(message, code=code)
        self.expected_seq = expected_seq


class PayloadTooLarge(ServerError):
    """A request body over the configured limit."""

    code = "payload_too_large"
    status = 413


class RateLimited(ServerError):
    """A device over its request rate."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many requests from this device; retry after {retry_after:.1f} s")
        self.retry_after = retry_after


class WriteFailed(ServerError):
    """A shared (group) commit failed; nothing of the request was kept, and it may be retried."""

    code = "write_failed"
    status = 503


class ConfigError(ServerError):
    """The server cannot start as configured."""

    code = "config_error"


def http_status(exc: BaseException) -> int:
    """The HTTP status for an error; the only place that decides it."""
    if isinstance(exc, ServerError):
        return exc.status
    if isinstance(exc, EnvelopeError):
        if exc.code == "bad_signature":
            return 401
        if exc.code == "envelope_too_large":
            return 413
        return 400
    if isinstance(exc, SchemaError):
        return 400
    return 500


def error_code(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else "internal_error"
