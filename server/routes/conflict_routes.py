"""``/v1/conflicts``: the supervisors' conflict queue (Bearer NAME.SECRET, not a tablet's key)."""

from __future__ import annotations

from typing import Annotated

import apsw
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, Parameter, PathParameter

from schema.wire import ConflictList, ConflictOut, ResolveRequest
from server import conflicts, supervisors
from server.devices import unit_by_code
from server.state import Services

ConflictId = Annotated[int, PathParameter(ge=1, le=2**63 - 1, description="conflict id")]
"""A conflict's id: beyond SQLite's integers it is a 400, not a lookup."""


def _out(c: conflicts.ConflictRow) -> ConflictOut:
    return ConflictOut(
        id=c.id, upload_id=c.upload_id, device_id=c.device_id, unit_id=c.unit_id, tbl=c.tbl, row_id=c.row_id,
        column=c.column_name, kind=c.kind, base_value=c.base_value, server_value=c.server_value,
        tablet_value=c.tablet_value, provisional=c.provisional, status=c.status, created_at=c.created_at,
        resolution=c.resolution, resolved_value=c.resolved_value, resolved_by=c.resolved_by,
        resolved_at=c.resolved_at,
    )


@get("/v1/conflicts", summary="List sync conflicts (supervisors)")
async def list_conflicts(
    request: Request[object, object, State],
    state: State,
    status: Annotated[str | None, Parameter(description="open | resolved; empty for all")] = "open",
    unit: Annotated[str | None, Parameter(description="unit code")] = None,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    offset: Annotated[int, Parameter(ge=0, le=2**31)] = 0,
) -> ConflictList:
    svc: Services = state.laogan
    now = svc.clock()
    auth = request.headers.get("authorization")

    def work(conn: apsw.Connection) -> ConflictList:
        supervisors.authenticate(conn, auth, now=now)
        unit_id = unit_by_code(conn, unit)[0] if unit else None
        rows = conflicts.list_conflicts(conn, status=status or None, unit_id=unit_id, limit=limit, offset=offset)
        return ConflictList(conflicts=[_out(c) for c in rows], count=len(rows))

    return await svc.readers.run(work)


@get("/v1/conflicts/{conflict_id:int}", summary="One sync conflict (supervisors)")
async def show_conflict(request: Request[object, object, State], state: State,
                        conflict_id: ConflictId) -> ConflictOut:
    svc: Services = state.laogan
    now = svc.clock()
    auth = request.headers.get("authorization")

    def work(conn: apsw.Connection) -> ConflictOut:
        supervisors.authenticate(conn, auth, now=now)
        return _out(conflicts.get_conflict(conn, conflict_id))

    return await svc.readers.run(work)


@post("/v1/conflicts/{conflict_id:int}/resolve", status_code=200,
      summary="Resolve a conflict with the tablet's value, the server's, or a given value (supervisors)")
async def resolve_conflict(request: Request[object, object, State], state: State, conflict_id: ConflictId,
                           data: JSONBody[ResolveRequest]) -> ConflictOut:
    svc: Services = state.laogan
    now = svc.clock()
    auth = request.headers.get("authorization")

    def work(conn: apsw.Connection) -> ConflictOut:
        who = supervisors.authenticate(conn, auth, now=now)
        return _out(conflicts.resolve(conn, conflict_id, choice=data.choice, value=data.value,
                                      actor=f"supervisor:{who.name}", now=now))

    return await svc.writer.run(work)
