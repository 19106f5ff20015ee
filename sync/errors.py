"""Errors of the tablet package (``sync``).

::

    SyncError                        base of everything raised by ``sync``
    ├── CaptureError                 a captured transaction was refused (nothing was written)
    │   ├── ReadOnlyTable            a write to a table the tablet only pulls (units, staff, menu, outbox)
    │   ├── AppendOnlyTable          an UPDATE or DELETE of an append-only table (roster history)
    │   ├── SharedRow                a write to a row a unit above shares with this tablet (read-only)
    │   ├── BrokenReference          a row breaking a rule between rows (a group outside its branch's unit …)
    │   ├── RecordingFailed          a changed row could not be recorded (e.g. TEXT that is not UTF-8)
    │   ├── StatementNotAllowed      DDL, ATTACH, transaction control or a state-changing PRAGMA
    │   ├── CaptureActive            a capture or other transaction is already open on this connection
    │   └── BadStaffId               the staff id given to a capture is not a lower-case UUID
    ├── InvalidChangeset             a changeset does not parse, or names a table or shape we refuse
    ├── OutboxError                  an outbox operation on a sequence number that is not pending
    ├── PendingChanges               a pull would overwrite local changes that are not uploaded yet
    ├── PullApplyError               a pulled changeset could not be applied (constraint, cursor)
    ├── NotEnrolled                  the tablet has no device id or server keys yet
    ├── AlreadyEnrolled              the tablet directory already belongs to an enrolled device
    ├── ServerUnavailable            the server could not be reached after every retry
    ├── ServerRefused                the server answered 4xx with ``{"error": {"code", "message"}}``
    │   └── SequenceGap              409 ``sequence_gap``: the server expects another sequence number
    └── ProtocolError                the server's answer breaks the protocol (bad receipt or envelope)

Every class carries a stable machine ``code``. Nothing here knows about HTTP statuses except the
attributes that report what the server said.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class of every error raised by the sync package."""

    code = "sync_error"


class CaptureError(SyncError):
    """A captured transaction was refused and rolled back."""

    code = "capture_refused"


class ReadOnlyTable(CaptureError):
    """A write to a table that tablets only pull (or to the tablet's own machinery)."""

    code = "read_only_table"

    def __init__(self, table: str) -> None:
        super().__init__(f"平板不能修改表 {table} (tablets may not write table {table!r})")
        self.table = table


class SharedRow(CaptureError):
    """A write to a row that a unit above this tablet's unit shares with it (venue, resource, branch)."""

    code = "shared_row"

    def __init__(self, table: str, row_id: str) -> None:
        super().__init__(f"上级单位共享的数据只读:{table} {row_id} "
                         f"(a row shared by a unit above this tablet's is read-only here: {table!r} {row_id})")
        self.table = table
        self.row_id = row_id


class BrokenReference(CaptureError):
    """A row that breaks a rule between rows, e.g. a party group outside its branch's unit."""

    code = "broken_reference"

    def __init__(self, rule: str, table: str, row_id: str) -> None:
        super().__init__(f"数据之间的对应关系不成立({rule}):{table} {row_id} "
                         f"(the row breaks the rule {rule!r}: {table!r} {row_id}; see sync/references.py)")
        self.rule = rule
        self.table = table
        self.row_id = row_id


class RecordingFailed(CaptureError):
    """A row the capture changed could not be recorded for upload, so the capture was rolled back."""

    code = "recording_failed"

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"无法记录本次修改,已全部撤销 (a changed row could not be recorded, nothing was kept: "
                         f"{type(cause).__name__}: {cause})")
        self.cause = cause


class AppendOnlyTable(CaptureError):
    """An UPDATE or DELETE of a table whose rows are never changed once written."""

    code = "append_only_table"

    def __init__(self, table: str) -> None:
        super().__init__(f"表 {table} 只能新增 (table {table!r} is append-only)")
        self.table = table


class StatementNotAllowed(CaptureError):
    """DDL, ATTACH/DETACH, BEGIN/COMMIT/ROLLBACK or a state-changing PRAGMA inside a capture."""

    code = "statement_not_allowed"


class CaptureActive(CaptureError):
    """A capture (or another transaction) is already open on this connection."""

    code = "capture_active"


class BadStaffId(CaptureError):
    """The staff id given to a capture is not a canonical lower-case UUID."""

    code = "bad_staff_id"


class InvalidChangeset(SyncError):
    """A changeset does not parse, is empty, or names a table or shape the tablet may not upload."""

    code = "invalid_changeset"


class OutboxError(SyncError):
    """An outbox operation named a sequence number that is not a pending outbox row."""

    code = "outbox_error"


class PendingChanges(SyncError):
    """A pull was refused because local changes are still waiting in the outbox."""

    code = "pending_changes"

    def __init__(self, pending: int) -> None:
        super().__init__(
            f"还有 {pending} 个本地变更未上传,先上传再拉取 ({pending} local changes not uploaded; push first)"
        )
        self.pending = pending


class PullApplyError(SyncError):
    """A pulled changeset could not be applied; nothing of it was kept."""

    code = "pull_apply_failed"


class NotEnrolled(SyncError):
    """The tablet has not been enrolled with a server yet (run ``laogan tablet init``)."""

    code = "not_enrolled"


class AlreadyEnrolled(SyncError):
    """The tablet directory already belongs to an enrolled device."""

    code = "already_enrolled"


class ServerUnavailable(SyncError):
    """The server could not be reached (or kept failing) after every retry; nothing was lost."""

    code = "server_unavailable"


class ServerRefused(SyncError):
    """The server refused a request with a 4xx status and an error body."""

    code = "server_refused"

    def __init__(self, status: int, server_code: str, message: str) -> None:
        super().__init__(f"服务器拒绝 (server refused, HTTP {status}) [{server_code}]: {message}")
        self.status = status
        self.server_code = server_code
        self.server_message = message


class SequenceGap(ServerRefused):
    """The server expects a different upload sequence number than the one sent."""

    code = "sequence_gap"

    def __init__(self, status: int, server_code: str, message: str, *, sent_seq: int,
                 expected_seq: int | None) -> None:
        super().__init__(status, server_code, message)
        self.sent_seq = sent_seq
        self.expected_seq = expected_seq
        self.args = (
            f"序号不连续 (sequence gap): sent seq {sent_seq}, server expects {expected_seq}; "
            "nothing was dropped from the outbox",
        )


class ProtocolError(SyncError):
    """The server's answer does not follow the protocol (undecodable receipt, bad envelope ...)."""

    code = "protocol_error"
