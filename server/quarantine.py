"""Refused uploads: the reason (a stable code, Chinese and English text) and the kept ciphertext.

:class:`Refusal` is raised by the reconcile engine and the upload path when a changeset as a whole
cannot be applied; the upload is then kept here, never dropped, and can be retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import apsw

from server.errors import ServerError
from server.ledger import iso


class Refusal(ServerError):
    """A whole changeset was refused; it goes to quarantine with this reason."""

    code = "refused"
    status = 422

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(f"{zh} ({en})", code=code)
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class Held:
    id: int
    upload_id: int
    device_id: str | None
    seq: int | None
    reason_code: str
    reason_zh: str
    reason_en: str
    created_at: str
    status: str


def hold(conn: apsw.Connection, *, upload_id: int, device_id: str | None, seq: int | None, refusal: Refusal,
         now: datetime) -> int:
    """Record a refused upload (inside the caller's transaction); returns the quarantine id."""
    conn.execute(
        "INSERT INTO quarantine (upload_id, device_id, seq, reason_code, reason_zh, reason_en, created_at)"
        " VALUES (?,?,?,?,?,?,?)",
        (upload_id, device_id, seq, refusal.code, refusal.zh, refusal.en, iso(now)),
    )
    return int(conn.last_insert_rowid())


def list_held(conn: apsw.Connection, *, status: str | None = "held") -> list[Held]:
    sql = "SELECT id, upload_id, device_id, seq, reason_code, reason_zh, reason_en, created_at, status FROM quarantine"
    args: tuple[object, ...] = ()
    if status is not None:
        sql += " WHERE status = ?"
        args = (status,)
    return [Held(*row) for row in conn.execute(sql + " ORDER BY id", args).fetchall()]  # type: ignore[arg-type]
