"""``laogan backup`` and ``laogan restore``: online backup of the central database, checked restore."""

from __future__ import annotations

from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from server.backup import BackupResult
from server.settings import load_settings

_PUB = click.option("--pub", "pub_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                    help="Server Ed25519 public key file that signs the ledger checkpoints "
                         "(32 raw bytes; default: sign.pub in LAOGAN_KEYS_DIR).")
_DB = click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                   help="Central database file (default: LAOGAN_DB or var/central.db).")


def _public_key(pub_path: Path | None) -> Ed25519PublicKey:
    from schema.keys import ed25519_public_from_raw, load_public_keys

    if pub_path is not None:
        try:
            return ed25519_public_from_raw(pub_path.read_bytes())
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"公钥不可用 (public key {pub_path} unusable): {exc}") from None
    return load_public_keys(load_settings().keys_dir)[0]


def _report(verb: str, r: BackupResult) -> None:
    click.echo(f"{verb} {r.path}: {r.bytes:,} bytes, {r.pages:,} pages")
    click.echo(f"账本完好 ledger intact: {r.ledger_entries} entries, head {r.head_hash}")


@click.command("backup")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Backup file to create; refused if it exists (written as OUT.partial, then renamed).")
@_DB
@_PUB
def backup(out: Path, db_path: Path | None, pub_path: Path | None) -> None:
    """Copy the central database to a new file while the server keeps serving (在线备份).

    Uses SQLite's online backup API in one read transaction, so the copy is consistent as of one
    commit; the copy's integrity and ledger are checked before it gets its final name.
    """
    from server.backup import backup as run

    _report("已备份 backed up to", run(db_path or load_settings().db_path, out, _public_key(pub_path)))


@click.command("restore")
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@_DB
@_PUB
@click.option("--force", is_flag=True,
              help="Replace an existing database (stop the server first; its -wal/-shm files are removed).")
def restore(backup_file: Path, db_path: Path | None, pub_path: Path | None, force: bool) -> None:
    """Make BACKUP_FILE the central database (从备份恢复), after verifying its integrity and ledger.

    Refuses a damaged backup or one whose ledger does not verify, and an existing database
    unless --force is given.
    """
    from server.backup import restore as run

    _report("已恢复 restored to", run(backup_file, db_path or load_settings().db_path, _public_key(pub_path),
                                      force=force))
