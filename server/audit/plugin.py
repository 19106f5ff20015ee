"""The Datasette plugin object: hooks bound to one Datasette instance, and the ASGI wrapper.

Registered with ``datasette.plugins.pm`` by :class:`server.audit.app.AuditApp` and unregistered when
it closes; every hook answers only for the instance it was built for (``None`` for any other), so two
audit apps — or an unrelated Datasette — in one process never see each other's rules.

The wrapper is the outermost layer, before Datasette's router, CSRF and static files:

1. authenticate (Bearer or session cookie, checked against ``audit_users`` every time);
2. anonymous and not the login/logout page -> 401 with a hint how to log in, nothing else runs;
3. any method but GET and HEAD (except the login form's POST) -> 405: no write API can be reached;
4. otherwise hand the actor to Datasette (``actor_from_request`` reads it from the scope);
5. when the response starts, commit the access-log entry *first*; if that fails, answer 503 instead;
6. mark every response ``Cache-Control: no-store``.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import Awaitable, Callable, Generator, MutableMapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, TypeVar, cast

from datasette import hookimpl
from datasette.utils.asgi import Forbidden, Request, Response
from markupsafe import Markup, escape

from schema.errors import SchemaError
from schema.model import Column
from schema.tables import table as registry_table
from server.audit.accesslog import AccessEntry, AccessLog, AccessLogUnavailable
from server.audit.auth import Actor, Authenticator
from server.audit.errors import error_response
from server.audit.ledgercheck import LedgerCheck
from server.audit.masking import SUFFIX, install
from server.audit.names import (
    CENTRAL,
    LOGIN_PATH,
    LOGOUT_PATH,
    MASKED,
    OURS,
    ROLE_KEY,
    SCOPE_KEY,
    SESSION_COOKIE,
    TODAY_FN,
    VERIFY_FN,
)
from server.audit.pages import login_page, refusal, safe_next, unavailable
from server.audit.policy import Policy
from server.audit.users import parse_token
from server.ledger import iso

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
NOTE_KEY = "laogan_note"
F = TypeVar("F", bound=Callable[..., Any])
READ_ONLY = "只读服务:只接受 GET 请求。Read-only: only GET and HEAD are accepted.\n".encode()
LOGIN_FAILED = "账号或密钥不正确,或已过期、已吊销。Wrong name or secret, or the credential expired or was revoked."


def hook(**options: Any) -> Callable[[F], F]:
    """``datasette.hookimpl`` with a type (Datasette ships no annotations)."""
    return cast(Callable[[F], F], hookimpl(**options))


@dataclass
class Note:
    """What the access-log entry of one request will say about who asked (the login page fills it in)."""

    actor: str | None
    role: str | None


@dataclass(frozen=True)
class AuditContext:
    central: Path
    policy: Policy
    auth: Authenticator
    log: AccessLog
    ledger: LedgerCheck
    clock: Callable[[], datetime]
    zone: tzinfo
    """The auditors' time zone: "today" and "this month" are local dates."""


def _no_store(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() != b"cache-control"] + [(b"cache-control", b"no-store")]


async def _send_body(send: Send, status: int, content_type: str, body: bytes,
                     extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    headers = [(b"content-type", content_type.encode()), (b"cache-control", b"no-store"), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AuditPlugin:
    def __init__(self, datasette: Any, ctx: AuditContext, name: str) -> None:
        self.ds = datasette
        self.ctx = ctx
        self.__name__ = name  # Datasette lists plugins by __name__ (/-/plugins)

    # -- hooks ---------------------------------------------------------------------------------------
    @hook(tryfirst=True)
    def actor_from_request(self, datasette: Any, request: Request) -> Actor | None:
        if datasette is not self.ds:
            return None
        actor: Actor | None = request.scope.get(SCOPE_KEY)
        return actor

    @hook(trylast=True)
    def permission_allowed(self, datasette: Any, actor: dict[str, Any] | None, action: str,
                           resource: object) -> bool | None:
        if datasette is not self.ds:
            return None
        return self.ctx.policy.allows(actor, action, resource)

    @hook()
    def prepare_connection(self, conn: sqlite3.Connection, database: str, datasette: Any) -> None:
        if datasette is not self.ds or database not in OURS:
            return
        # constant within one statement, like date('now'): SQLite evaluates it once per statement
        conn.create_function(TODAY_FN, 0, self._today, deterministic=True)
        conn.create_function(VERIFY_FN, 0, self.ctx.ledger.verdict_json)
        # sorts and DISTINCTs of province-wide queries in memory, not temp files; set before the TEMP
        # views exist, since changing temp_store drops every temporary object
        conn.execute("PRAGMA temp_store = MEMORY")
        if database == MASKED:
            install(conn, self.ctx.central)
        conn.execute("PRAGMA query_only = 1")

    @hook()
    def register_routes(self, datasette: Any) -> list[tuple[str, Any]] | None:
        if datasette is not self.ds:
            return None
        return [(rf"^/{LOGIN_PATH}$", self.login), (rf"^/{LOGOUT_PATH}$", self.logout)]

    @hook()
    def asgi_wrapper(self, datasette: Any) -> Callable[[ASGIApp], ASGIApp] | None:
        if datasette is not self.ds:
            return None
        return self.wrap

    @hook()
    def menu_links(self, datasette: Any, actor: dict[str, Any] | None) -> list[dict[str, str]] | None:
        if datasette is not self.ds or not actor:
            return None
        return [{"href": datasette.urls.path(LOGOUT_PATH), "label": f"退出登录 Log out ({actor.get('id')})"}]

    @hook()
    def render_cell(self, value: object, column: str, table: str | None, database: str,
                    datasette: Any) -> Markup | None:
        """Enumeration codes shown with their Chinese label (HTML only; JSON and CSV keep the code)."""
        if datasette is not self.ds or table is None or not isinstance(value, str):
            return None
        col = _registry_column(database, table, column)
        if col is None or col.enum is None or value not in col.enum.codes():
            return None
        return Markup(f"{escape(col.enum.label(value))} <small>{escape(value)}</small>")

    @hook(wrapper=True)
    def handle_exception(self, datasette: Any, request: Request,
                         exception: BaseException) -> Generator[None, list[Any], list[Any]]:
        results = yield
        if datasette is not self.ds:
            return results
        return [error_response(datasette, request, exception)]

    @hook()
    def forbidden(self, datasette: Any, request: Request,
                  message: str) -> Callable[[], Awaitable[Response]] | None:
        """403 in the format asked for (Datasette's default is always HTML)."""
        if datasette is not self.ds:
            return None
        return error_response(datasette, request, Forbidden(message))

    # -- routes --------------------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        home = self.ds.urls.instance()
        action = self.ds.urls.path(LOGIN_PATH)
        csrftoken = request.scope["csrftoken"]() if "csrftoken" in request.scope else ""
        if request.method != "POST":
            page = login_page(action=action, next_path=safe_next(request.args.get("next"), home), csrftoken=csrftoken)
            return Response.html(page)
        form = await request.post_vars()
        name, secret = (form.get("name") or "").strip(), (form.get("secret") or "").strip()
        token = parse_token(secret)
        if token is not None and (not name or token[0] == name):
            name, secret = token
        cred = await self.ctx.auth.check(name, secret) if name and secret else None
        note: Note | None = request.scope.get(NOTE_KEY)
        if note is not None:
            note.actor, note.role = (name or None), (cred.role if cred else None)
        next_path = safe_next(form.get("next"), home)
        if cred is None:
            page = login_page(action=action, next_path=next_path, csrftoken=csrftoken, error=LOGIN_FAILED)
            return Response.html(page, status=401)
        response = Response.redirect(next_path)
        response.set_cookie(SESSION_COOKIE, self.ctx.auth.session_value(cred), max_age=self.ctx.auth.session_seconds,
                            path=self.ds.urls.path("/"), httponly=True, samesite="strict")
        return response

    async def logout(self, request: Request) -> Response:
        response = Response.redirect(self.ds.urls.path(LOGIN_PATH))
        response.set_cookie(SESSION_COOKIE, "", expires=0, max_age=0, path=self.ds.urls.path("/"),
                            httponly=True, samesite="strict")
        return response

    # -- the ASGI wrapper ----------------------------------------------------------------------------
    def wrap(self, app: ASGIApp) -> ASGIApp:
        public = {self.ds.urls.path(LOGIN_PATH), self.ds.urls.path(LOGOUT_PATH)}

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            at = iso(self.ctx.clock())
            actor = await self.ctx.auth.actor(scope.get("headers") or [])
            note = Note(actor["id"] if actor else None, actor[ROLE_KEY] if actor else None)
            path = str(scope.get("path", ""))
            if actor is None and path not in public:
                await self._refuse(scope, send, note, at, path)
                return
            if scope.get("method") not in ("GET", "HEAD") and path not in public:
                await self._reply(scope, send, note, at, 405, ("text/plain; charset=utf-8", READ_ONLY),
                                  ((b"allow", b"GET, HEAD"),))
                return
            failed = False

            async def logged_send(message: Message) -> None:
                nonlocal failed
                if failed:
                    return
                if message["type"] == "http.response.start":
                    try:
                        await self.ctx.log.write(self._entry(scope, note, at, int(message["status"])))
                    except AccessLogUnavailable:
                        failed = True
                        await _send_body(send, 503, *unavailable())
                        return
                    message = {**message, "headers": _no_store(list(message.get("headers") or []))}
                await send(message)

            await app({**scope, SCOPE_KEY: actor, NOTE_KEY: note}, receive, logged_send)

        return wrapped

    async def _refuse(self, scope: Scope, send: Send, note: Note, at: str, path: str) -> None:
        query = bytes(scope.get("query_string") or b"").decode("latin-1")
        target = path + (f"?{query}" if query else "")
        login_url = self.ds.urls.path(LOGIN_PATH) + "?" + urllib.parse.urlencode({"next": target})
        await self._reply(scope, send, note, at, 401, refusal(path, login_url),
                          ((b"www-authenticate", b'Bearer realm="laogan-audit"'),))

    async def _reply(self, scope: Scope, send: Send, note: Note, at: str, status: int, page: tuple[str, bytes],
                     extra: tuple[tuple[bytes, bytes], ...]) -> None:
        """Answer from the wrapper itself — after logging, like every other answer."""
        try:
            await self.ctx.log.write(self._entry(scope, note, at, status))
        except AccessLogUnavailable:
            await _send_body(send, 503, *unavailable())
            return
        await _send_body(send, status, *page, extra)

    def _entry(self, scope: Scope, note: Note, at: str, status: int) -> AccessEntry:
        client = scope.get("client")
        raw_query = bytes(scope.get("query_string") or b"").decode("latin-1")
        return AccessEntry(at=at, actor=note.actor, role=note.role, method=str(scope.get("method", "")),
                           path=str(scope.get("path", "")), query=urllib.parse.unquote(raw_query), status=status,
                           client=str(client[0]) if client else None)

    def _today(self) -> str:
        return self.ctx.clock().astimezone(self.ctx.zone).date().isoformat()


def _registry_column(database: str, table: str, column: str) -> Column | None:
    """The registry column behind a cell of one of our tables or masked views."""
    name = table[: -len(SUFFIX)] if database == MASKED and table.endswith(SUFFIX) else table
    if database not in (CENTRAL, MASKED):
        return None
    try:
        return registry_table(name).column(column)
    except (KeyError, SchemaError):
        return None
