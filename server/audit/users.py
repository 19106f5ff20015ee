"""Per-auditor credentials (审计账号): add, revoke, list, and the check of a presented secret.

A credential is printed once as a token ``NAME.SECRET`` (SECRET: 32 random bytes, base64url). Only
SHA-256(SECRET) is stored — a 256-bit random secret needs no slow hash. Adding and revoking are
ledgered (an ``admin`` entry whose summary names the account and role), so who could read personal
data, and since when, is on the tamper-evident record. Every failed check gets the same answer.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import apsw

from schema.audit_tables import AUDIT_ROLE
from schema.keys import b64e
from server.errors import BadRequest, NotFound
from server.ledger import iso, ledgered

ROLES = AUDIT_ROLE.codes()
LOOKUP_SQL = "SELECT name, role, secret_hash, expires_at, revoked_at FROM audit_users WHERE name = ?"


@dataclass(frozen=True)
class AuditUser:
    name: str
    role: str
    secret_hash: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= iso(now):
            return "expired"
        return "active"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> tuple[str, str] | None:
    """``NAME.SECRET`` -> (name, secret); None when it is not of that shape."""
    name, dot, secret = token.strip().partition(".")
    if not dot or not name or not secret:
        return None
    return name, secret


def secret_matches(stored_hash: str, secret: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_secret(secret))


def usable(role: str, expires_at: str | None, revoked_at: str | None, now: datetime) -> bool:
    """A stored credential may log in now: known role, not revoked, not expired."""
    return role in ROLES and revoked_at is None and (expires_at is None or expires_at > iso(now))


def _check_name(name: str) -> None:
    if not (0 < len(name) <= 64) or "." in name or any(ch.isspace() for ch in name) or not name.isprintable():
        raise BadRequest("账号为1-64个字符,不能含“.”或空白 (name: 1-64 characters, no '.' or spaces)",
                         code="bad_name")


def add(conn: apsw.Connection, name: str, role: str, *, now: datetime, rng: random.Random,
        days: int | None = None, actor: str = "cli") -> str:
    """Create an account and return its token (shown once). ``conn`` has the ledger capture installed."""
    _check_name(name)
    if role not in ROLES:
        raise BadRequest(f"角色必须是 {'/'.join(ROLES)} (role must be one of {', '.join(ROLES)})", code="bad_role")
    if days is not None and days <= 0:
        raise BadRequest("有效天数必须为正 (--expires must be a positive number of days)", code="bad_expiry")
    if conn.execute("SELECT 1 FROM audit_users WHERE name = ?", (name,)).fetchone() is not None:
        raise BadRequest(f"审计账号 {name} 已存在 (audit user {name} exists; choose a new name)",
                         code="duplicate_name")
    secret = b64e(rng.randbytes(32))
    expires = iso(now + timedelta(days=days)) if days else None
    with ledgered(conn, kind="admin", actor=actor, now=now) as tx:
        conn.execute("INSERT INTO audit_users (name, role, secret_hash, created_at, expires_at) VALUES (?,?,?,?,?)",
                     (name, role, hash_secret(secret), iso(now), expires))
        tx.summary = {"event": "audit user added", "name": name, "role": role, "expires_at": expires}
    return f"{name}.{secret}"


def revoke(conn: apsw.Connection, name: str, *, now: datetime, actor: str = "cli") -> None:
    """Revoke an account; its token and every browser session of it stop working at once."""
    if conn.execute("SELECT 1 FROM audit_users WHERE name = ?", (name,)).fetchone() is None:
        raise NotFound(f"没有审计账号 {name} (no audit user {name})", code="unknown_audit_user")
    with ledgered(conn, kind="admin", actor=actor, now=now) as tx:
        conn.execute("UPDATE audit_users SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", (iso(now), name))
        tx.summary = {"event": "audit user revoked", "name": name}


def list_users(conn: apsw.Connection) -> list[AuditUser]:
    rows = conn.execute(
        "SELECT name, role, secret_hash, created_at, expires_at, revoked_at FROM audit_users ORDER BY name"
    ).fetchall()
    return [AuditUser(str(r[0]), str(r[1]), str(r[2]), str(r[3]), None if r[4] is None else str(r[4]),
                      None if r[5] is None else str(r[5])) for r in rows]
