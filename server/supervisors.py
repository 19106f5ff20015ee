"""Supervisor credentials (督导人员): bearer tokens for the conflict API.

A token is ``NAME.SECRET`` where SECRET is 32 random bytes in base64url; only SHA-256(SECRET) is
stored (a high-entropy random secret needs no slow hash). Every failed check gets the same answer.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import apsw

from schema.keys import b64e
from server.errors import BadRequest, NotFound, Unauthorized
from server.ledger import iso, ledgered


@dataclass(frozen=True)
class Supervisor:
    id: int
    name: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add(conn: apsw.Connection, name: str, *, now: datetime, rng: random.Random, days: int | None = None,
        actor: str = "cli") -> str:
    """Create a supervisor and return their token (shown once). Ledgered: who, whom, when (never the token)."""
    if not name or "." in name or len(name) > 64:
        raise BadRequest("名称不能为空、不能含“.”、不超过64字符 (name: 1-64 characters, no '.')", code="bad_name")
    if days is not None and days < 1:
        raise BadRequest("有效天数必须为正 (--expires must be a positive number of days)", code="bad_expiry")
    secret = b64e(rng.randbytes(32))
    expires = iso(now + timedelta(days=days)) if days else None
    try:
        with ledgered(conn, kind="admin", actor=actor, now=now) as tx:
            conn.execute("INSERT INTO supervisors (name, secret_hash, created_at, expires_at) VALUES (?,?,?,?)",
                         (name, _hash(secret), iso(now), expires))
            tx.summary = {"event": "supervisor added", "name": name, "expires_at": expires}
    except apsw.ConstraintError:  # the name is taken (ledgered has rolled back)
        raise BadRequest(f"督导人员 {name} 已存在 (supervisor {name} exists)", code="duplicate_name") from None
    return f"{name}.{secret}"


def revoke(conn: apsw.Connection, name: str, *, now: datetime, actor: str = "cli") -> None:
    """Revoke a supervisor's token (ledgered)."""
    if conn.execute("SELECT 1 FROM supervisors WHERE name = ?", (name,)).fetchone() is None:
        raise NotFound(f"没有督导人员 {name} (no supervisor {name})", code="unknown_supervisor")
    if conn.execute("SELECT 1 FROM supervisors WHERE name = ? AND revoked_at IS NULL", (name,)).fetchone() is None:
        return  # revoked already: nothing to do, nothing to ledger
    with ledgered(conn, kind="admin", actor=actor, now=now) as tx:
        conn.execute("UPDATE supervisors SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", (iso(now), name))
        tx.summary = {"event": "supervisor revoked", "name": name}


def authenticate(conn: apsw.Connection, authorization: str | None, *, now: datetime) -> Supervisor:
    """The supervisor a ``Bearer NAME.SECRET`` header belongs to; one opaque 401 otherwise."""
    fail = Unauthorized("需要督导人员凭据 (supervisor token required: Authorization: Bearer NAME.SECRET)",
                        code="unauthorized")
    if not authorization or not authorization.startswith("Bearer "):
        raise fail
    name, _, secret = authorization[len("Bearer "):].strip().partition(".")
    row = conn.execute(
        "SELECT id, secret_hash, expires_at, revoked_at FROM supervisors WHERE name = ?", (name,)
    ).fetchone()
    good = row is not None and hmac.compare_digest(str(row[1]), _hash(secret))
    if not good or row is None or row[3] is not None or (row[2] is not None and str(row[2]) <= iso(now)):
        raise fail
    return Supervisor(int(str(row[0])), name)
