"""Checks on changesets entering the tablet, and the conflict rule for applying pulls.

* :func:`check_upload` — a raw changeset someone hands the tablet (``push-changeset``): it must be a
  changeset (not a patchset), parse completely, and touch only uploadable tables with exactly the
  tablet's columns and primary key.
* :func:`check_pull` — a changeset the server sent: only synced tables, exactly the local columns
  (so SQLite never silently skips a table whose shape differs).
* :func:`pull_conflict` — the server's row wins: DATA and CONFLICT replace, NOTFOUND is skipped,
  anything else (a UNIQUE or other constraint) aborts the whole apply.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import apsw

from schema.tables import synced_tables, uploadable_tables
from sync.errors import InvalidChangeset, PullApplyError

_CHANGESET_TABLE_MARKER = ord("T")
_PATCHSET_TABLE_MARKER = ord("P")

Columns = Callable[[str], tuple[str, ...]]
"""Table name -> its column names in the local database, in order."""


def as_text(value: object) -> str | None:
    """A SQLite value as text for ``roster_history`` (NULL stays NULL, blobs become hex)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _shape_problem(change: apsw.TableChange, allowed: Collection[str], columns: Columns) -> str | None:
    if change.name not in allowed:
        return f"table {change.name!r} may not appear here"
    local = columns(change.name)
    if change.column_count != len(local):
        return (f"table {change.name!r} has {change.column_count} columns in the changeset "
                f"but {len(local)} in this tablet's schema")
    if set(change.pk_columns) != {local.index("id")}:
        return f"table {change.name!r}: primary key columns do not match"
    return None


def _scan(data: bytes, allowed: Collection[str], columns: Columns) -> tuple[int, str | None]:
    """Walk the whole changeset (a truncated one fails here, not half-way through an apply);
    returns (changes, first problem). A TableChange is only valid during its iteration step."""
    count = 0
    for change in apsw.Changeset.iter(data):
        problem = _shape_problem(change, allowed, columns)
        if problem is not None:
            return count, problem
        count += 1
    return count, None


def check_upload(data: bytes, columns: Columns) -> int:
    """Raise :class:`InvalidChangeset` unless ``data`` is a complete changeset of uploadable tables
    with the local shape; returns the number of changes."""
    data = bytes(data)
    if not data:
        raise InvalidChangeset("变更集为空 (the changeset is empty)")
    if data[0] == _PATCHSET_TABLE_MARKER:
        raise InvalidChangeset("这是补丁集,不是变更集 (a patchset, not a changeset: old values are needed)")
    if data[0] != _CHANGESET_TABLE_MARKER:
        raise InvalidChangeset("不是 SQLite 变更集 (not an SQLite changeset)")
    try:
        count, problem = _scan(data, {t.name for t in uploadable_tables()}, columns)
    except (apsw.Error, ValueError) as exc:
        raise InvalidChangeset(f"变更集无法解析 (the changeset does not parse: {exc})") from None
    if problem is not None:
        raise InvalidChangeset(f"变更集不能上传 (refused: {problem})")
    return count


def check_pull(data: bytes, columns: Columns) -> int:
    """Raise :class:`PullApplyError` unless a pulled changeset touches only synced tables with the
    local shape; returns the number of changes (0 for an empty changeset)."""
    data = bytes(data)
    if not data:
        return 0
    try:
        count, problem = _scan(data, {t.name for t in synced_tables()}, columns)
    except (apsw.Error, ValueError) as exc:
        raise PullApplyError(f"拉取的变更集无法解析 (pulled changeset does not parse: {exc})") from None
    if problem is not None:
        raise PullApplyError(f"拉取的变更集不能应用 (pulled changeset refused: {problem})")
    return count


def pull_conflict(reason: int, change: apsw.TableChange) -> int:
    """Conflict handler for pulls: the server's version of a row replaces the tablet's."""
    if reason in (apsw.SQLITE_CHANGESET_DATA, apsw.SQLITE_CHANGESET_CONFLICT):
        return apsw.SQLITE_CHANGESET_REPLACE
    if reason == apsw.SQLITE_CHANGESET_NOTFOUND:
        return apsw.SQLITE_CHANGESET_OMIT
    return apsw.SQLITE_CHANGESET_ABORT
