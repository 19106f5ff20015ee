"""Three-musts notices (三必须事项): what a unit issues, to whom it is due, and by when.

A supervisor issues a notice — a document to deliver (文件必须送到), a meeting to invite to (会议必须邀请)
or higher-level guidance to convey (上级精神必须传达) — for a unit; it is due, by ``due_by``, to every
living retiree of that unit and of every unit below it of ``for_category`` or a category above it
(``general``, the lowest: every retiree). Notices are written here only, each in one ledgered transaction, so they reach the
pulls of that unit's tablets and of every tablet below it (``notices`` is ``sync="down"`` and
``shared_below`` in the registry); tablets record deliveries against them in ``three_musts.notice_id``.

Bad input changes nothing: an unknown unit is :class:`server.errors.NotFound` (``unknown_unit``, as for
enrolment codes), the rest a :class:`NoticeError` subclass.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime

import apsw

from schema import enums as E
from schema.errors import SchemaError
from server.devices import unit_by_code
from server.ledger import ledgered

"""Category -> rank, highest first (离休 0 … 一般 3): a notice ``for_category`` X is due to ranks <= X's."""


class NoticeError(SchemaError):
    """A notice that cannot be issued (nothing is written)."""

    code = "notice_refused"


class BadNoticeValue(NoticeError):
    """A kind, category, title or date that is not valid."""

    code = "invalid_value"


class DueBeforeIssued(NoticeError):
    """A due date earlier than the issue date."""

    code = "due_before_issued"


@dataclass(frozen=True)
class Notice:
    id: str
    unit_code: str
    unit_name: str
    kind: str
    title: str
    issued_on: str
    due_by: str
    for_category: str


def parse_day(text: str, what: str) -> str:
    """``YYYY-MM-DD`` as given, or :class:`BadNoticeValue` naming ``what``."""
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise BadNoticeValue(f"{what}不是有效日期 YYYY-MM-DD: {text!r} (not a valid date)")
    return day.isoformat()


TITLE_MAX = 200
"""Longest title accepted (a document's or meeting's name, one line)."""


def add_notice(conn: apsw.Connection, *, unit_code: str, kind: str, title: str, issued_on: str, due_by: str,
               for_category: str, actor: str, now: datetime, rng: random.Random) -> Notice:
    """Issue a notice for ``unit_code`` (see the module docstring); returns it."""
    if kind not in E.MUST_KIND.codes():
        raise BadNoticeValue(f"事项类型须为 {', '.join(E.MUST_KIND.codes())}: {kind!r} (unknown kind)")
    if for_category not in E.CATEGORY.codes():
        raise BadNoticeValue(f"发放范围须为 {', '.join(E.CATEGORY.codes())}: {for_category!r} (unknown category)")
    title = title.strip()
    if not title:
        raise BadNoticeValue("标题不能为空 (the title is empty)")
    if len(title) > TITLE_MAX or any(not ch.isprintable() for ch in title):
        raise BadNoticeValue(f"标题须为一行、不超过{TITLE_MAX}个字符 (the title must be one line of at most {TITLE_MAX} "
                             "printable characters)")
    issued, due = parse_day(issued_on, "下发日期 issued"), parse_day(due_by, "送达期限 due")
    if due < issued:
        raise DueBeforeIssued(f"送达期限 {due} 早于下发日期 {issued} (due before issued)")
    unit_id, unit_name = unit_by_code(conn, unit_code)
    notice_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    with ledgered(conn, kind="admin", actor=actor, now=now) as tx:
        conn.execute("INSERT INTO notices (id, unit_id, kind, title, issued_on, due_by, for_category)"
                     " VALUES (?,?,?,?,?,?,?)", (notice_id, unit_id, kind, title, issued, due, for_category))
        tx.summary = {"event": "notice issued", "notice_id": notice_id, "unit_id": unit_id, "kind": kind,
                      "due_by": due}
    return Notice(notice_id, unit_code, unit_name, kind, title, issued, due, for_category)


def list_notices(conn: apsw.Connection, unit_code: str | None = None) -> list[Notice]:
    """The notices of ``unit_code`` and of the units above it (those its retirees must get), or every
    notice; latest due first."""
    where, args = "", ()  # type: tuple[str, tuple[str, ...]]
    if unit_code is not None:
        unit_id, _ = unit_by_code(conn, unit_code)
        where = ("WHERE n.unit_id IN (WITH RECURSIVE up(id, d) AS (SELECT ?, 0 UNION SELECT u.parent_id, up.d + 1"
                 " FROM units u JOIN up ON u.id = up.id WHERE u.parent_id IS NOT NULL AND up.d < 64) SELECT id FROM up)")
        args = (unit_id,)
    rows = conn.execute(
        "SELECT n.id, u.code, u.name, n.kind, n.title, n.issued_on, n.due_by, n.for_category"
        f" FROM notices n JOIN units u ON u.id = n.unit_id {where} ORDER BY n.due_by DESC, u.code, n.id", args)
    return [Notice(*(str(v) for v in r)) for r in rows]
