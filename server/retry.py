"""Retry a quarantined upload after a supervisor fixed its cause (say, added the missing retiree)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import apsw

from schema import envelope as env
from schema.errors import EnvelopeError
from schema.keys import KeyPair, ed25519_public_from_raw
from server import reconcile
from server.devices import get_device, scope_units
from server.errors import BadRequest, NotFound
from server.ledger import iso, ledgered
from server.quarantine import Refusal
from server.uploads import record_conflicts


@dataclass(frozen=True)
class RetryResult:
    quarantine_id: int
    applied: bool
    status: str
    conflicts: int
    reason: str = ""


def retry(conn: apsw.Connection, quarantine_id: int, *, keys: KeyPair, now: datetime, actor: str,
          force: bool = False) -> RetryResult:
    row = conn.execute(
        "SELECT q.status, q.reason_code, q.upload_id, u.envelope, u.device_id FROM quarantine q"
        " JOIN uploads u ON u.id = q.upload_id WHERE q.id = ?", (quarantine_id,)).fetchone()
    if row is None:
        raise NotFound(f"隔离区没有 {quarantine_id} (no quarantined upload {quarantine_id})", code="unknown_quarantine")
    status, reason_code, upload_id, data, device_id = row
    if status != "held":
        raise BadRequest(f"隔离记录 {quarantine_id} 已应用 (already applied)", code="already_applied")
    if reason_code == "device_revoked" and not force:
        raise BadRequest("来自已吊销设备的上传须加 --force 才能重试 (upload from a revoked device: use --force)",
                         code="needs_force")
    device = get_device(conn, str(device_id))
    if device is None:
        raise NotFound("设备不存在 (device unknown)", code="unknown_device")
    parsed = env.parse(bytes(data))
    env.verify(parsed, ed25519_public_from_raw(device.sign_pub))
    captured = datetime.fromtimestamp(max(parsed.header.created_at, 0), tz=UTC)
    try:
        try:
            changeset = env.open_(parsed, keys.box_key)
        except EnvelopeError:
            raise Refusal("cannot_open", "无法解开上传内容", "the envelope payload cannot be opened") from None
        scope = frozenset(scope_units(conn, device.unit_id))
        with ledgered(conn, kind="retry", actor=actor, now=now, device_id=device.id, captured_at=captured) as tx:
            counts = reconcile.scan(changeset, conn, scope)
            outcome = reconcile.apply_changeset(conn, changeset, captured_at=iso(captured), counts=counts)
            record_conflicts(conn, outcome, upload_id=int(upload_id), device_id=device.id, now=now)
            conn.execute("UPDATE quarantine SET status = 'applied', retried_at = ? WHERE id = ?",
                         (iso(now), quarantine_id))
            tx.summary = {"quarantine_id": quarantine_id, "upload_id": int(upload_id), "status": outcome.status,
                          "conflicts": len(outcome.conflicts)}
        return RetryResult(quarantine_id, True, outcome.status, len(outcome.conflicts))
    except Refusal as refusal:
        with ledgered(conn, kind="retry", actor=actor, now=now, device_id=device.id) as failed:
            conn.execute("UPDATE quarantine SET retried_at = ? WHERE id = ?", (iso(now), quarantine_id))
            failed.summary = {"quarantine_id": quarantine_id, "status": "still held", "reason": refusal.code}
        return RetryResult(quarantine_id, False, "held", 0, f"{refusal.code}: {refusal.zh} ({refusal.en})")
