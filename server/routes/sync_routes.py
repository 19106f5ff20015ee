"""``/v1/enroll``, ``/v1/changesets``, ``/v1/changes``, ``/v1/health``."""

from __future__ import annotations

from typing import Annotated

import apsw
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, Parameter, QueryParameter

from schema import SCHEMA_VERSION
from schema import envelope as env
from schema.auth import AuthError, parse_auth_header, verify_request
from schema.errors import EnvelopeError
from schema.keys import b64e, ed25519_public_from_raw, x25519_public_from_raw
from schema.wire import (
    ENVELOPE_MEDIA_TYPE,
    PULL_SCHEMA_PARAM,
    PULL_SCHEMA_UNSTATED,
    EnrollRequest,
    EnrollResponse,
    Health,
    Receipt,
)
from server import devices, uploads
from server.errors import BadRequest, RateLimited, Unauthorized
from server.ledger_audit import maybe_checkpoint
from server.pull import PullPage, build_page
from server.state import Services

GROUP_MAX_CHANGESET = 1024 * 1024
"""Uploads whose changeset is up to this size share group commits; a larger one commits alone (a
grouped upload's savepoint journal is held in memory, and one large upload would delay the others)."""


def _svc(state: State) -> Services:
    svc: Services = state.laogan
    return svc


@get("/v1/health", summary="Liveness and versions: 503 with status writer_stopped once writes fail")
async def health(state: State) -> Response[Health]:
    if not _svc(state).writer.alive:  # every upload would get 503 write_failed: say so here too
        return Response(Health(status="writer_stopped", schema_version=SCHEMA_VERSION), status_code=503)
    return Response(Health(status="ok", schema_version=SCHEMA_VERSION))


@post("/v1/enroll", status_code=200, summary="Redeem a one-time enrolment code for a device id")
async def enroll(state: State, data: JSONBody[EnrollRequest]) -> EnrollResponse:
    svc = _svc(state)
    now = svc.clock()

    def work(conn: apsw.Connection) -> devices.Enrolled:
        return devices.enroll(conn, code=data.code, sign_pub=data.sign_pub, box_pub=data.box_pub,
                              label=data.label[:100], now=now, rng=svc.rng)

    got = await svc.writer.run(work)
    sign_pub, box_pub = svc.keys.public_bytes()
    return EnrollResponse(
        device_id=got.device.id, unit_id=got.device.unit_id, unit_code=got.unit_code,
        scope_unit_ids=list(got.scope), server_sign_pub=b64e(sign_pub), server_box_pub=b64e(box_pub),
        cursor=got.cursor, schema_version=SCHEMA_VERSION,
    )


@post("/v1/changesets", status_code=200, summary="Upload one sealed changeset envelope",
      description="Body: the envelope bytes (see docs/protocol.md). Answers a JSON receipt.")
async def upload_changeset(
    request: Request[object, object, State],
    state: State,
) -> Receipt:
    svc = _svc(state)
    body = await request.body()
    if not body:
        raise BadRequest("empty body: expected an envelope", code="envelope_malformed")
    now = svc.clock()
    limit = min(svc.settings.max_body_bytes, env.MAX_ENVELOPE)
    try:
        claimed = env.peek_device_id(body)
    except (EnvelopeError, ValueError):
        claimed = None  # the parse in receive() answers it properly
    if claimed is not None and (wait := svc.limiter.check(claimed, now.timestamp())) > 0:
        raise RateLimited(wait)

    def check(conn: apsw.Connection) -> uploads.Checked:
        return uploads.check(body, device=lambda device_id: devices.get_device(conn, device_id), keys=svc.keys,
                             max_envelope=limit, max_changeset=svc.settings.max_changeset_bytes)

    # Parse, verify and open on a reader thread, beside the writer and off the event loop.
    checked = await svc.readers.run(check)
    grouped = len(checked.changeset or b"") <= GROUP_MAX_CHANGESET

    def work(conn: apsw.Connection) -> Receipt:
        try:
            receipt = uploads.record(conn, checked, now=now)
        except Exception:
            if claimed is not None:
                svc.limiter.charge(claimed, now.timestamp())
            raise
        if claimed is not None:
            svc.limiter.charge(claimed, now.timestamp())
        maybe_checkpoint(conn, svc.keys.sign_key, now)
        return receipt

    return await (svc.writer.run_grouped(work) if grouped else svc.writer.run(work))


@get("/v1/changes", summary="Changes of the device's units after a cursor, sealed to the device",
     description="Authenticated by an Ed25519 request signature (Authorization: Laogan-Sig ...).",
     response_headers=None)
async def changes(
    request: Request[object, object, State],
    state: State,
    after: Annotated[int, Parameter(ge=0, le=2**62, description="cursor from the previous pull")] = 0,
    mark: Annotated[str | None, Parameter(pattern="^[0-9a-f]{0,16}$", max_length=16,
                                          description="X-Laogan-Mark of the previous pull")] = None,
    tablet_schema: Annotated[int, QueryParameter(name=PULL_SCHEMA_PARAM, ge=1, le=SCHEMA_VERSION,
                                     description="the tablet's schema version (before 4: not sent)")]
    = PULL_SCHEMA_UNSTATED,
) -> Response[bytes]:
    svc = _svc(state)
    now = svc.clock()
    header = request.headers.get("authorization")
    if header is None:
        raise Unauthorized("missing Authorization: Laogan-Sig header", code="unauthorized")
    try:
        auth = parse_auth_header(header)
    except AuthError:
        raise Unauthorized("malformed Authorization header", code="unauthorized") from None
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    qs = request.scope.get("query_string", b"")
    path_qs = raw.split(b"?", 1)[0].decode("latin-1") + ("?" + qs.decode("latin-1") if qs else "")
    limit = svc.settings.pull_page_rows

    if (wait := svc.limiter.check(auth.device_id, now.timestamp())) > 0:
        raise RateLimited(wait)

    def work(conn: apsw.Connection) -> tuple[devices.Device, PullPage]:
        device = devices.require_active(devices.get_device(conn, auth.device_id))
        try:
            verify_request(auth, ed25519_public_from_raw(device.sign_pub), "GET", path_qs, b"",
                           int(now.timestamp()), svc.settings.clock_skew_seconds)
        except AuthError:
            raise Unauthorized("request signature rejected", code="bad_signature") from None
        svc.limiter.charge(device.id, now.timestamp())
        with conn:  # one read transaction: rows and cursor agree
            page = build_page(conn, after=after, scope=devices.scope_units(conn, device.unit_id), limit=limit,
                              shared=devices.ancestor_units(conn, device.unit_id), mark=mark,
                              version=tablet_schema)
        return device, page

    device, page = await svc.readers.run(work)
    sealed = env.seal(
        page.changeset, kind=env.KIND_PULL, device_id=device.id, seq=page.start, cursor=page.next_cursor,
        schema_version=tablet_schema, now=int(now.timestamp()), signing_key=svc.keys.sign_key,  # the page's shape
        recipient=x25519_public_from_raw(device.box_pub),
    )
    return Response(
        content=sealed, media_type=ENVELOPE_MEDIA_TYPE,
        headers={"X-Laogan-More": "1" if page.more else "0", "X-Laogan-Cursor": str(page.next_cursor),
                 "X-Laogan-Rows": str(page.rows), "X-Laogan-Next-Seq": str(device.next_seq),
                 "X-Laogan-Mark": page.mark},
    )
