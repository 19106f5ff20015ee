"""Tablets: one-time enrolment codes, enrolment, scope, revocation.

A device's scope is its unit and every unit below it. Enrolment codes are stored only as hashes and
are single use; a code that is wrong, used or expired gets the same answer. Enrolment is idempotent:
the tablet that redeemed a code may present it again, with the same public keys, while the code is
still valid (its answer was lost on a field network) and gets the same device back, nothing new made.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import apsw

from schema.keys import b64d, b64e
from server.errors import Forbidden, NotFound, Unauthorized
from server.ledger import iso, ledgered

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Device:
    id: str
    unit_id: str
    sign_pub: bytes
    box_pub: bytes
    revoked_at: str | None
    next_seq: int
    label: str


@dataclass(frozen=True)
class Enrolled:
    device: Device
    unit_code: str
    scope: tuple[str, ...]
    cursor: int


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


def unit_by_code(conn: apsw.Connection, code: str) -> tuple[str, str]:
    row = conn.execute("SELECT id, name FROM units WHERE code = ?", (code,)).fetchone()
    if row is None:
        raise NotFound(f"没有代码为 {code} 的单位 (no unit with code {code})", code="unknown_unit")
    return str(row[0]), str(row[1])


def create_code(conn: apsw.Connection, unit_code: str, *, now: datetime, rng: random.Random, hours: int = 24) -> str:
    """A fresh single-use enrolment code for ``unit_code``, valid ``hours`` from ``now``."""
    unit_id, _ = unit_by_code(conn, unit_code)
    raw = "".join(rng.choice(_CODE_ALPHABET) for _ in range(12))
    code = "-".join(raw[i:i + 4] for i in range(0, 12, 4))
    with ledgered(conn, kind="device", actor="enrol-code", now=now) as tx:
        tx.summary = {"event": "enrolment code created", "unit_id": unit_id}
        conn.execute(
            "INSERT INTO enrol_codes (code_hash, unit_id, created_at, expires_at) VALUES (?,?,?,?)",
            (_hash_code(code), unit_id, iso(now), iso(now + timedelta(hours=hours))),
        )
    return code


def scope_units(conn: apsw.Connection, unit_id: str) -> tuple[str, ...]:
    rows = conn.execute(
        "WITH RECURSIVE sub(id) AS (SELECT ? UNION SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)"
        " SELECT id FROM sub ORDER BY id",
        (unit_id,),
    ).fetchall()
    return tuple(str(r[0]) for r in rows)


def ancestor_units(conn: apsw.Connection, unit_id: str) -> tuple[str, ...]:
    """The units above ``unit_id``, nearest first (their ``shared_below`` rows reach its tablets)."""
    rows = conn.execute(
        "WITH RECURSIVE up(id, depth) AS (SELECT parent_id, 1 FROM units WHERE id = ?"
        " UNION SELECT u.parent_id, up.depth + 1 FROM units u JOIN up ON u.id = up.id WHERE up.depth < 64)"
        " SELECT id FROM up WHERE id IS NOT NULL ORDER BY depth",
        (unit_id,),
    ).fetchall()
    return tuple(str(r[0]) for r in rows)


def _row_to_device(row: tuple[object, ...]) -> Device:
    return Device(
        id=str(row[0]), unit_id=str(row[1]), sign_pub=b64d(str(row[2])), box_pub=b64d(str(row[3])),
        revoked_at=None if row[4] is None else str(row[4]), next_seq=int(str(row[5])), label=str(row[6] or ""),
    )


_DEVICE_COLS = "id, unit_id, sign_pub, box_pub, revoked_at, next_seq, label"


def get_device(conn: apsw.Connection, device_id: str) -> Device | None:
    row = conn.execute(f"SELECT {_DEVICE_COLS} FROM devices WHERE id = ?", (device_id,)).fetchone()
    return None if row is None else _row_to_device(row)


def list_devices(conn: apsw.Connection) -> list[tuple[Device, str, str | None]]:
    """Every device with its unit code and last-seen time."""
    rows = conn.execute(
        f"SELECT {', '.join('d.' + c.strip() for c in _DEVICE_COLS.split(','))}, u.code, d.last_seen_at"
        " FROM devices d JOIN units u ON u.id = d.unit_id ORDER BY d.enrolled_at, d.id"
    ).fetchall()
    return [(_row_to_device(r[:7]), str(r[7]), None if r[8] is None else str(r[8])) for r in rows]


def enroll(
    conn: apsw.Connection, *, code: str, sign_pub: str, box_pub: str, label: str, now: datetime,
    rng: random.Random,
) -> Enrolled:
    """Redeem an enrolment code for a new device holding the given public keys (or, for the same keys
    again while the code is valid, return the device they already enrolled)."""
    try:
        sign_raw, box_raw = b64d(sign_pub), b64d(box_pub)
    except ValueError:
        raise Unauthorized("公钥格式错误 (malformed public key)", code="bad_public_key") from None
    if len(sign_raw) != 32 or len(box_raw) != 32:
        raise Unauthorized("公钥格式错误 (malformed public key)", code="bad_public_key")
    row = conn.execute(
        "SELECT id, unit_id FROM enrol_codes WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?",
        (_hash_code(code), iso(now)),
    ).fetchone()
    if row is None:
        again = _enrolled_with(conn, code, b64e(sign_raw), b64e(box_raw), now)
        if again is None:
            raise Unauthorized("登记码无效、已使用或已过期 (enrolment code invalid, used or expired)",
                               code="bad_enrol_code")
        return _enrolled(conn, again)
    code_id, unit_id = int(row[0]), str(row[1])
    device_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    with ledgered(conn, kind="device", actor="enrol", now=now, device_id=device_id) as tx:
        tx.summary = {"event": "enrolled", "unit_id": unit_id, "label": label}
        conn.execute(
            "INSERT INTO devices (id, unit_id, label, sign_pub, box_pub, enrolled_at, next_seq)"
            " VALUES (?,?,?,?,?,?,1)",
            (device_id, unit_id, label, b64e(sign_raw), b64e(box_raw), iso(now)),
        )
        conn.execute("UPDATE enrol_codes SET used_at = ?, device_id = ? WHERE id = ?", (iso(now), device_id, code_id))
    device = get_device(conn, device_id)
    assert device is not None
    return _enrolled(conn, device)


def _enrolled_with(conn: apsw.Connection, code: str, sign_pub: str, box_pub: str, now: datetime) -> Device | None:
    """The device a still-valid, used ``code`` enrolled, if it holds these public keys and is not revoked."""
    row = conn.execute(
        "SELECT d.id FROM enrol_codes e JOIN devices d ON d.id = e.device_id WHERE e.code_hash = ?"
        " AND e.used_at IS NOT NULL AND e.expires_at > ? AND d.sign_pub = ? AND d.box_pub = ? AND d.revoked_at IS NULL",
        (_hash_code(code), iso(now), sign_pub, box_pub),
    ).fetchone()
    return None if row is None else get_device(conn, str(row[0]))


def _enrolled(conn: apsw.Connection, device: Device) -> Enrolled:
    unit_row = conn.execute("SELECT code FROM units WHERE id = ?", (device.unit_id,)).fetchone()
    unit_code = str(unit_row[0]) if unit_row else ""
    return Enrolled(device=device, unit_code=unit_code, scope=scope_units(conn, device.unit_id), cursor=0)


def revoke(conn: apsw.Connection, device_id: str, *, now: datetime, actor: str = "cli") -> Device:
    device = get_device(conn, device_id)
    if device is None:
        raise NotFound(f"没有这台设备 (no device {device_id})", code="unknown_device")
    if device.revoked_at is None:
        with ledgered(conn, kind="device", actor=actor, now=now, device_id=device_id) as tx:
            tx.summary = {"event": "revoked"}
            conn.execute("UPDATE devices SET revoked_at = ? WHERE id = ?", (iso(now), device_id))
    revoked = get_device(conn, device_id)
    assert revoked is not None
    return revoked


def require_active(device: Device | None) -> Device:
    if device is None:
        raise Unauthorized("unknown device", code="unknown_device")
    if device.revoked_at is not None:
        raise Forbidden("设备已吊销 (device revoked)", code="device_revoked")
    return device

