"""Who is asking: ``Authorization: Bearer NAME.SECRET`` or the signed session cookie of a browser login.

Both are checked against ``audit_users`` on every request, so an expiry or a revocation takes effect
at once — a session cookie only names the account, the credential it was issued for (a fingerprint of
the stored hash: re-issuing a credential ends old sessions) and its own expiry. A request that offers a
Bearer token is judged by that token alone. Every failure is the same ``None``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Any

from server.audit.names import ROLE_KEY, SESSION_COOKIE
from server.audit.users import parse_token, secret_matches, usable
from server.ledger import iso

Actor = dict[str, str]


@dataclass(frozen=True)
class Credential:
    name: str
    role: str
    secret_hash: str
    expires_at: str | None
    revoked_at: str | None

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.secret_hash.encode()).hexdigest()[:16]

    def actor(self) -> Actor:
        return {"id": self.name, ROLE_KEY: self.role}


Lookup = Callable[[str], Awaitable[Credential | None]]


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v.decode("latin-1")
    return None


def cookie(headers: Iterable[tuple[bytes, bytes]], name: str) -> str | None:
    raw = header(headers, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


class Authenticator:
    def __init__(self, lookup: Lookup, *, clock: Callable[[], datetime], sign: Callable[[Any], str],
                 unsign: Callable[[str], Any], session_hours: int) -> None:
        self._lookup = lookup
        self._clock = clock
        self._sign = sign
        self._unsign = unsign
        self._session = timedelta(hours=session_hours)

    async def check(self, name: str, secret: str) -> Credential | None:
        """The credential ``name`` + ``secret`` belong to, if usable now."""
        cred = await self._lookup(name)
        if cred is None or not secret_matches(cred.secret_hash, secret):
            return None
        return cred if usable(cred.role, cred.expires_at, cred.revoked_at, self._clock()) else None

    async def actor(self, headers: Iterable[tuple[bytes, bytes]]) -> Actor | None:
        headers = list(headers)
        authorization = header(headers, b"authorization")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            parsed = parse_token(token) if scheme.lower() == "bearer" else None
            if parsed is None:
                return None
            cred = await self.check(*parsed)
            return None if cred is None else cred.actor()
        value = cookie(headers, SESSION_COOKIE)
        return None if value is None else await self._from_session(value)

    def session_value(self, cred: Credential) -> str:
        return self._sign({"n": cred.name, "f": cred.fingerprint, "x": iso(self._clock() + self._session)})

    @property
    def session_seconds(self) -> int:
        return int(self._session.total_seconds())

    async def _from_session(self, value: str) -> Actor | None:
        try:
            data = self._unsign(value)
        except Exception:  # itsdangerous.BadSignature and malformed payloads alike
            return None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("n", "f", "x")):
            return None
        now = self._clock()
        if data["x"] <= iso(now):
            return None
        cred = await self._lookup(data["n"])
        if cred is None or cred.fingerprint != data["f"]:
            return None
        return cred.actor() if usable(cred.role, cred.expires_at, cred.revoked_at, now) else None
