"""``create_app(settings)``: the Litestar application. The lifespan opens and closes the database."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from litestar import Litestar, Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router

from reports_site.serve import default_site_dir, static_files_options
from schema.wire import ErrorBody, ErrorDetail
from server.errors import RateLimited, SequenceConflict, error_code, http_status
from server.ledger_audit import checkpoint
from server.ratelimit import RateLimiter
from server.routes.conflict_routes import list_conflicts, resolve_conflict, show_conflict
from server.routes.sync_routes import changes, enroll, health, upload_changeset
from server.serverkeys import load_server_keys
from server.settings import Settings
from server.state import Services, utc_now
from server.writer import Readers, Writer

log = logging.getLogger("laogan.server")


def _error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
                413: "payload_too_large", 429: "rate_limited"}.get(status, "http_error")
        message = str(exc.detail)
    else:
        status = http_status(exc)
        code = error_code(exc)
        message = str(exc) if status < 500 else "internal error"
    if status >= 500:
        log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    expected = exc.expected_seq if isinstance(exc, SequenceConflict) else None
    headers = {"Retry-After": str(max(1, int(exc.retry_after + 0.999)))} if isinstance(exc, RateLimited) else None
    return Response(ErrorBody(ErrorDetail(code=code, message=message, expected_seq=expected)), status_code=status,
                    headers=headers)


def create_app(
    settings: Settings, *, clock: Callable[[], datetime] = utc_now, rng: random.Random | None = None,
) -> Litestar:
    """Build the app; the database and keys open when it starts and close when it stops."""
    keys = load_server_keys(settings)  # refuses to start with world-readable private keys

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        writer = Writer(settings.db_path, cache_mib=settings.writer_cache_mib)
        readers = Readers(settings.db_path)
        limiter = RateLimiter(settings.device_rate_per_s, settings.device_burst)
        app.state.laogan = Services(settings, keys, writer, readers, clock, rng or random.SystemRandom(), limiter)
        try:
            yield
        finally:
            svc: Services = app.state.laogan
            try:
                if svc.writer.alive:  # a stopped writer has already logged why; nothing to sign with
                    svc.writer.run_sync(lambda conn: checkpoint(conn, keys.sign_key, svc.clock()))
            finally:
                svc.close()

    site = create_static_files_router(**static_files_options(default_site_dir(settings.data_dir)))
    return Litestar(
        route_handlers=[health, enroll, upload_changeset, changes, list_conflicts, show_conflict, resolve_conflict,
                        site],
        lifespan=[lifespan],
        exception_handlers={Exception: _error_response},
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="laogan sync API", version="1"),
        debug=False,
    )
