"""The receive path of one upload: parse, authenticate, order, open, reconcile, record.

Order of checks (nothing is learned from the payload before the signature verifies):

1. strict parse of the envelope (size limits) → 400/413, not stored (it is not attributable);
2. the device must exist and the Ed25519 signature verify → 401, not stored;
3. a revoked device → 403, the upload is kept in quarantine;
4. the sequence number: an earlier one with the same bytes → the original receipt; with other bytes
   → 409 ``sequence_reused`` (kept in quarantine); a gap → 409 ``sequence_gap`` with the expected
   number (kept as a rejected upload);
5. open (decrypt, hash, bounded decompress), scope and shape checks, apply with merge — all in one
   ledgered transaction. A refusal at this step quarantines the whole changeset and consumes the
   sequence number, so the tablet moves on; the receipt says ``quarantined`` with the reason.

The server runs steps 1–2 and the opening of step 5 in :func:`check` on a reader thread (a revoked
device's payload is not opened), and the rest in :func:`record` on the writer, where the device is
read again; :func:`receive` does both on one connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import apsw
import msgspec

from schema import SCHEMA_VERSION
from schema import envelope as env
from schema.errors import EnvelopeError
from schema.keys import KeyPair, ed25519_public_from_raw
from schema.wire import Receipt, TableCounts
from server import reconcile
from server.devices import Device, get_device, scope_units
from server.errors import Forbidden, SequenceConflict, Unauthorized, WriteFailed
from server.ledger import EffectNotExact, iso, ledgered
from server.quarantine import Refusal, hold
from server.values import encode_value

MAX_SEQ = 2**63 - 1
"""The largest sequence number SQLite can store (the envelope's u64 allows more)."""
MAX_CREATED_AT = 253402300799
"""9999-12-31 23:59:59 UTC: a later (signed i64) capture time is clamped, never an overflow."""


def record_conflicts(conn: apsw.Connection, outcome: reconcile.Outcome, *, upload_id: int, device_id: str,
                     now: datetime) -> None:
    for c in outcome.conflicts:
        conn.execute(
            "INSERT INTO conflicts (upload_id, device_id, unit_id, tbl, row_id, column_name, kind, base_value,"
            " server_value, tablet_value, provisional, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (upload_id, device_id, c.unit_id, c.tbl, c.row_id, c.column, c.kind, encode_value(c.base),
             encode_value(c.server), encode_value(c.tablet), c.provisional, iso(now)),
        )


def _cursor(conn: apsw.Connection) -> int:
    """The pull cursor: the last ``change_log`` entry (call after ``LedgerTx.finish_effect``, so it is
    past this upload's own rows)."""
    row = conn.execute("SELECT max(seq) FROM change_log").fetchone()
    return int(row[0] or 0) if row else 0


def _store_upload(conn: apsw.Connection, *, device_id: str, seq: int, now: datetime, captured_at: datetime | None,
                  sha: str, data: bytes, status: str, ledger_id: int) -> int:
    conn.execute(
        "INSERT INTO uploads (device_id, seq, received_at, captured_at, envelope_sha256, envelope, status, ledger_id)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (device_id, seq, iso(now), iso(captured_at) if captured_at else None, sha, data, status, ledger_id),
    )
    return int(conn.last_insert_rowid())


def _set_receipt(conn: apsw.Connection, upload_id: int, receipt: Receipt) -> None:
    conn.execute("UPDATE uploads SET receipt = ? WHERE id = ?", (msgspec.json.encode(receipt).decode(), upload_id))


def _already_kept(conn: apsw.Connection, device_id: str, sha: str) -> bool:
    return conn.execute(
        "SELECT 1 FROM uploads WHERE device_id = ? AND envelope_sha256 = ?", (device_id, sha)
    ).fetchone() is not None


def _keep_refused(conn: apsw.Connection, *, device: Device, seq: int, now: datetime, sha: str, data: bytes,
                  refusal: Refusal | None) -> None:
    """Keep an upload that is refused without consuming its sequence number (once per byte string)."""
    if _already_kept(conn, device.id, sha):
        return
    with ledgered(conn, kind="upload", actor=f"device:{device.id}", now=now, device_id=device.id) as tx:
        upload_id = _store_upload(conn, device_id=device.id, seq=seq, now=now, captured_at=None, sha=sha,
                                  data=data, status="rejected", ledger_id=tx.ledger_id)
        tx.summary = {"upload_id": upload_id, "seq": seq, "status": "rejected",
                      "reason": refusal.code if refusal else "sequence_gap"}
        if refusal is not None:
            hold(conn, upload_id=upload_id, device_id=device.id, seq=seq, refusal=refusal, now=now)


@dataclass(frozen=True)
class Checked:
    """An upload whose envelope parsed and whose signature verified, opened ahead of the writer.

    ``changeset`` is None when the payload cannot be opened (``refusal`` says why) or is not needed
    (a schema newer than ours is refused unopened).
    """

    data: bytes
    parsed: env.Parsed
    sha: str
    changeset: bytes | None
    refusal: Refusal | None


def check(data: bytes, *, device: Callable[[str], Device | None], keys: KeyPair,
          max_envelope: int = env.MAX_ENVELOPE, max_changeset: int = env.MAX_CHANGESET) -> Checked:
    """Steps 1–2, and the opening of step 5 for a device not revoked: no writes (it runs on a reader,
    beside the writer). ``device(device_id)`` reads the device (None when unknown)."""
    parsed = env.parse(data, max_envelope=max_envelope)
    h = parsed.header
    if h.kind != env.KIND_UPLOAD:
        raise EnvelopeError("envelope_malformed", "not an upload envelope")
    known = device(h.device_id)
    if known is None:
        raise Unauthorized("unknown device", code="unknown_device")
    env.verify(parsed, ed25519_public_from_raw(known.sign_pub))
    sha = hashlib.sha256(data).hexdigest()
    if known.revoked_at is not None or h.schema_version > SCHEMA_VERSION:
        return Checked(data, parsed, sha, None, None)  # refused unopened (step 3, or a newer schema)
    try:
        return Checked(data, parsed, sha, env.open_(parsed, keys.box_key, max_changeset=max_changeset), None)
    except EnvelopeError:
        return Checked(data, parsed, sha, None,
                       Refusal("cannot_open", "无法解开上传内容", "the envelope payload cannot be opened"))


def receive(conn: apsw.Connection, data: bytes, *, keys: KeyPair, now: datetime,
            max_envelope: int = env.MAX_ENVELOPE, max_changeset: int = env.MAX_CHANGESET) -> Receipt:
    """Handle one upload on the writer connection; returns its receipt or raises a 4xx error."""
    checked = check(data, device=lambda device_id: get_device(conn, device_id), keys=keys,
                    max_envelope=max_envelope, max_changeset=max_changeset)
    return record(conn, checked, now=now)


def record(conn: apsw.Connection, checked: Checked, *, now: datetime) -> Receipt:
    """Steps 3–5 on the writer connection, for an upload :func:`check` passed (the device is read
    again: a revocation since the check still refuses it)."""
    h = checked.parsed.header
    data, sha = checked.data, checked.sha
    device = get_device(conn, h.device_id)
    if device is None:  # removed since the check (a restore): as unknown
        raise Unauthorized("unknown device", code="unknown_device")
    if device.revoked_at is not None:
        _keep_refused(conn, device=device, seq=h.seq, now=now, sha=sha, data=data,
                      refusal=Refusal("device_revoked", "设备已吊销", "device revoked"))
        raise Forbidden("设备已吊销 (device revoked)", code="device_revoked")
    if h.seq < device.next_seq:
        prior = conn.execute(
            "SELECT envelope_sha256, receipt FROM uploads WHERE device_id = ? AND seq = ? AND status != 'rejected'",
            (device.id, h.seq),
        ).fetchone()
        if prior is not None and prior[0] == sha and prior[1] is not None:
            return msgspec.json.decode(str(prior[1]), type=Receipt)
        _keep_refused(conn, device=device, seq=h.seq, now=now, sha=sha, data=data,
                      refusal=Refusal("sequence_reused", "序号已用过但内容不同",
                                      "sequence number already used with different bytes"))
        raise SequenceConflict(f"sequence {h.seq} already used with other bytes; expected {device.next_seq}",
                               code="sequence_reused", expected_seq=device.next_seq)
    if h.seq > device.next_seq:
        if h.seq <= MAX_SEQ:  # a seq beyond SQLite's 64-bit integers cannot be stored; refuse it all the same
            _keep_refused(conn, device=device, seq=h.seq, now=now, sha=sha, data=data, refusal=None)
        raise SequenceConflict(f"sequence gap: got {h.seq}, expected {device.next_seq}",
                               code="sequence_gap", expected_seq=device.next_seq)
    return _accept(conn, checked, device, now=now)


def _accept(conn: apsw.Connection, checked: Checked, device: Device, *, now: datetime) -> Receipt:
    h = checked.parsed.header
    data, sha = checked.data, checked.sha
    captured = datetime.fromtimestamp(min(max(h.created_at, 0), MAX_CREATED_AT), tz=UTC)
    try:
        if h.schema_version > SCHEMA_VERSION:
            raise Refusal("schema_newer", f"平板数据结构版本 {h.schema_version} 比服务器 {SCHEMA_VERSION} 新",
                          f"tablet schema version {h.schema_version} is newer than the server's {SCHEMA_VERSION}")
        if checked.refusal is not None:
            raise checked.refusal
        changeset = checked.changeset
        assert changeset is not None
        scope = frozenset(scope_units(conn, device.unit_id))
        grouped = conn.in_transaction  # inside the writer's group commit
        try:
            return _ledgered_upload(conn, changeset, data, sha, device, h.seq, scope=scope, captured=captured,
                                    now=now, fast=True)
        except (reconcile.NotClean, EffectNotExact):  # a fast path met a conflict half-way; rolled back
            if grouped and not conn.in_transaction:  # the group's transaction is gone: do not commit alone
                raise WriteFailed("write not kept: the shared transaction ended; retry") from None
            return _ledgered_upload(conn, changeset, data, sha, device, h.seq, scope=scope, captured=captured,
                                    now=now, fast=False)
    except Refusal as refusal:
        return _quarantine(conn, data, sha, device, h.seq, captured, refusal, now)


def _ledgered_upload(conn: apsw.Connection, changeset: bytes, data: bytes, sha: str, device: Device, seq: int, *,
                     scope: frozenset[str], captured: datetime, now: datetime, fast: bool) -> Receipt:
    """Reconcile and record one upload in one ledgered transaction (``fast``: pass the plan, so a clean
    changeset may take a fast path; raises :class:`reconcile.NotClean`, rolled back, when it cannot).

    On a fast path the session does not watch the changeset's tables: a clean apply's effect on them is
    the changeset itself, which the ledger entry records (followed by the session's capture of the
    rest: the device's sequence number). Saves the session's per-row hook and its changeset pass."""
    planned: list[tuple[reconcile.Plan, frozenset[str]]] = []

    def prepare() -> frozenset[str]:  # in the transaction: what the plan reads cannot change under it
        p = reconcile.plan(changeset, conn, scope)  # a Refusal quarantines
        planned.append((p, reconcile.exact_tables(conn, p) if fast else frozenset()))
        return planned[0][1]

    with ledgered(conn, kind="upload", actor=f"device:{device.id}", now=now, device_id=device.id,
                  captured_at=captured, assumed=prepare) as tx:
        plan, exact = planned[0]
        counts = plan.counts
        outcome = reconcile.apply_changeset(conn, changeset, captured_at=iso(captured), counts=counts,
                                            plan=plan if fast else None)
        if exact:
            if not outcome.exact:
                raise reconcile.NotClean  # applied some other way: capture it with the session instead
            tx.assumed_effect = changeset
            tx.assumed_log = plan.log
        upload_id = _store_upload(conn, device_id=device.id, seq=seq, now=now, captured_at=captured,
                                  sha=sha, data=data, status=outcome.status, ledger_id=tx.ledger_id)
        try:
            record_conflicts(conn, outcome, upload_id=upload_id, device_id=device.id, now=now)
        except (apsw.ConstraintError, TypeError, ValueError) as exc:  # a value the queue cannot hold
            raise Refusal("unrecordable_conflict", "冲突中的值无法记录(如无穷大、错误类型)",
                          f"a conflicting value cannot be recorded ({type(exc).__name__})") from None
        conn.execute("UPDATE devices SET next_seq = ?, last_seen_at = ? WHERE id = ?", (seq + 1, iso(now), device.id))
        tx.finish_effect()  # the last ledgered write: change_log now holds this upload's rows
        receipt = Receipt(
            device_id=device.id, seq=seq, status=outcome.status, upload_id=upload_id,
            counts={k: TableCounts(**v) for k, v in counts.items()}, conflicts=len(outcome.conflicts),
            cursor=_cursor(conn),
        )
        _set_receipt(conn, upload_id, receipt)
        tx.summary = {"upload_id": upload_id, "seq": seq, "status": outcome.status,
                      "conflicts": len(outcome.conflicts), "envelope_sha256": sha}
    return receipt


def _quarantine(conn: apsw.Connection, data: bytes, sha: str, device: Device, seq: int, captured: datetime,
                refusal: Refusal, now: datetime) -> Receipt:
    with ledgered(conn, kind="upload", actor=f"device:{device.id}", now=now, device_id=device.id,
                  captured_at=captured) as tx:
        upload_id = _store_upload(conn, device_id=device.id, seq=seq, now=now, captured_at=captured, sha=sha,
                                  data=data, status="quarantined", ledger_id=tx.ledger_id)
        hold(conn, upload_id=upload_id, device_id=device.id, seq=seq, refusal=refusal, now=now)
        conn.execute("UPDATE devices SET next_seq = ?, last_seen_at = ? WHERE id = ?", (seq + 1, iso(now), device.id))
        tx.finish_effect()  # the last ledgered write: change_log now holds this upload's rows
        receipt = Receipt(device_id=device.id, seq=seq, status="quarantined", upload_id=upload_id, counts={},
                          conflicts=0, cursor=_cursor(conn), reason=f"{refusal.code}: {refusal.zh} ({refusal.en})")
        _set_receipt(conn, upload_id, receipt)
        tx.summary = {"upload_id": upload_id, "seq": seq, "status": "quarantined", "reason": refusal.code,
                      "envelope_sha256": sha}
    return receipt
