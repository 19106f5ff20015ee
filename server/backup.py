"""Online backup of the central database, and restore with the ledger checked first.

``backup`` copies the live file with SQLite's online backup API (apsw ``Connection.backup``) from a
read-only connection, **in one step**: the step holds one read transaction, so the copy is the
database exactly as of one commit, while the server keeps writing (WAL readers never block the
writer, and a single step is never restarted by the writer's commits, which an incremental backup
under constant writes could be forever). The copy goes to ``FILE.partial`` (created exclusively), is
checked (``integrity_check``), switched to rollback-journal mode so it is one self-contained file,
fsynced, and only then linked to ``FILE`` — which is never overwritten — and the directory fsynced.
A crash at any instant leaves either no ``FILE`` or a complete one.

``restore`` refuses a backup whose file is damaged or whose ledger does not verify against the
server's public key, and refuses to replace an existing database unless ``force`` is given. The
restored copy is written beside the target as ``TARGET.partial``; with ``force`` the target's stale
``-wal``/``-shm`` files are removed *before* the new file is renamed into place (an old WAL replayed
onto a new file would corrupt it). Stop the server before restoring over its database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import apsw
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from server.db import open_reader
from server.errors import ServerError
from server.ledger_audit import Verdict, verify

__all__ = ["BackupError", "BackupResult", "backup", "restore"]

_SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(ServerError):
    """A backup or restore was refused: target exists, source damaged, or ledger broken."""

    code = "backup_error"


@dataclass(frozen=True)
class BackupResult:
    """What a backup or restore wrote: the file, its size, and its verified ledger."""

    path: Path
    bytes: int
    pages: int
    ledger_entries: int
    head_hash: str


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _claim(partial: Path) -> None:
    """Create ``partial`` exclusively: two backups to one file, or a leftover, are refused."""
    try:
        fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise BackupError(f"{partial} 已存在:另一个备份正在进行或曾中断,确认后删除它 "
                          f"({partial} exists: another backup is running or one was interrupted; remove it)",
                          code="backup_in_progress") from None
    os.close(fd)


def _copy(source: apsw.Connection, partial: Path) -> None:
    """Copy ``source`` into the claimed empty file ``partial``, check it, make it self-contained."""
    dest = apsw.Connection(str(partial))
    try:
        with dest.backup("main", source, "main") as b:
            b.step(-1)  # one step = one read transaction = one consistent snapshot
        if dest.execute("PRAGMA integrity_check").fetchall() != [("ok",)]:
            raise BackupError("备份副本未通过完整性检查 (the copy failed integrity_check)", code="backup_damaged")
        dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    finally:
        dest.close()
    _fsync_path(partial)


def _publish(partial: Path, out: Path) -> None:
    """Give ``partial`` its final name without ever replacing an existing ``out``."""
    try:
        os.link(partial, out)
    except FileExistsError:
        raise BackupError(f"{out} 已存在,备份从不覆盖 (exists; a backup never overwrites)",
                          code="backup_exists") from None
    partial.unlink()
    _fsync_path(out.parent, directory=True)


def _check(path: Path, public_key: Ed25519PublicKey) -> tuple[Verdict, int]:
    try:
        conn = open_reader(path)
    except (FileNotFoundError, apsw.Error) as exc:
        raise BackupError(f"无法打开备份 (cannot open {path}): {exc}", code="backup_invalid") from None
    try:
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            pages = int(conn.execute("PRAGMA page_count").fetchone()[0])  # type: ignore[index]
            has_ledger = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger'").fetchone() is not None
        except apsw.Error as exc:
            raise BackupError(f"{path} 不是可读的数据库 (not a readable database): {exc}",
                              code="backup_invalid") from None
        if not ok:
            raise BackupError(f"{path} 未通过完整性检查 (fails integrity_check)", code="backup_damaged")
        if not has_ledger:
            raise BackupError(f"{path} 不是 laogan 中心数据库 (not a laogan central database)",
                              code="backup_invalid")
        verdict = verify(conn, public_key)
    finally:
        conn.close()
    if not verdict.ok:
        raise BackupError(f"备份的账本校验失败,拒绝使用 (ledger BROKEN at entry {verdict.first_bad}: "
                          f"{verdict.reason})", code="ledger_broken")
    return verdict, pages


def _copy_checked(src: Path, partial: Path, public_key: Ed25519PublicKey) -> tuple[Verdict, int]:
    """Copy ``src`` (read-only, online) into ``partial`` and check the copy: (ledger verdict, pages)."""
    source = open_reader(src)
    try:
        _copy(source, partial)
    finally:
        source.close()
    return _check(partial, public_key)


def backup(db_path: Path, out: Path, public_key: Ed25519PublicKey) -> BackupResult:
    """Copy the (possibly live) central database at ``db_path`` to the new file ``out``."""
    if not db_path.is_file():
        raise BackupError(f"没有中心数据库 (no central database at {db_path})", code="backup_invalid")
    if out.exists() or out.is_symlink():
        raise BackupError(f"{out} 已存在,备份从不覆盖 (exists; a backup never overwrites)", code="backup_exists")
    partial = _partial(out)
    _claim(partial)
    try:
        verdict, pages = _copy_checked(db_path, partial, public_key)
        _publish(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(out, out.stat().st_size, pages, verdict.entries, verdict.head_hash)


def restore(backup_file: Path, db_path: Path, public_key: Ed25519PublicKey, *, force: bool = False) -> BackupResult:
    """Check ``backup_file`` (integrity, ledger) and make it the central database at ``db_path``."""
    if not backup_file.is_file():
        raise BackupError(f"没有备份文件 (no backup file {backup_file})", code="backup_invalid")
    if db_path.exists() and not force:
        raise BackupError(f"{db_path} 已存在;确认服务器已停止后加 --force 覆盖 "
                          f"(exists; stop the server and use --force to replace it)", code="restore_target_exists")
    _check(backup_file, public_key)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial(db_path)
    _claim(partial)
    try:
        verdict, pages = _copy_checked(backup_file, partial, public_key)
        for suffix in _SIDE_FILES:  # stale side files first: never let an old WAL meet the new file
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        os.replace(partial, db_path)
        _fsync_path(db_path.parent, directory=True)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(db_path, db_path.stat().st_size, pages, verdict.entries, verdict.head_hash)
