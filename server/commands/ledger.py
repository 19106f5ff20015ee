"""``laogan ledger verify|rebuild|checkpoint`` and ``laogan db checksum``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from server.commands.common import db_option
from server.settings import load_settings


@click.group("ledger")
def ledger() -> None:
    """The hash-chained ledger (账本): verify, checkpoint, rebuild."""


@ledger.command("verify")
@db_option
@click.option("--pub", "pub_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Server Ed25519 public key file (32 raw bytes; default: the keys dir's sign.pub).")
def verify(db_path: Path | None, pub_path: Path | None) -> None:
    """Recompute the chain offline; exit 0 and print the head hash, or exit 1 naming the first bad entry."""
    from schema.keys import load_public_keys
    from server.db import open_reader
    from server.ledger_audit import verify as run

    settings = load_settings()
    if pub_path is not None:
        from schema.keys import ed25519_public_from_raw

        try:
            public = ed25519_public_from_raw(pub_path.read_bytes())
        except ValueError:
            raise click.ClickException(f"{pub_path} 不是 Ed25519 公钥 (not a 32-byte Ed25519 public key)") from None
    else:
        public, _ = load_public_keys(settings.keys_dir)
    conn = open_reader(db_path or settings.db_path)
    try:
        v = run(conn, public)
    finally:
        conn.close()
    if v.ok:
        click.echo(f"账本完好 ledger intact: {v.entries} entries, {v.checkpoints} signed checkpoints")
        click.echo(f"head {v.head_hash}")
        return
    click.echo(f"账本损坏 ledger BROKEN at entry {v.first_bad}: {v.reason}", err=True)
    sys.exit(1)


@ledger.command("checkpoint")
@db_option
def checkpoint_cmd(db_path: Path | None) -> None:
    """Sign the current ledger head with the server's private key (签名检查点)."""
    from server.db import open_central
    from server.ledger_audit import checkpoint
    from server.serverkeys import load_server_keys
    from server.state import utc_now

    settings = load_settings()
    keys = load_server_keys(settings)
    conn = open_central(db_path or settings.db_path, create=False)
    try:
        got = checkpoint(conn, keys.sign_key, utc_now())
    finally:
        conn.close()
    click.echo("ledger is empty" if got is None else f"checkpoint at entry {got[0]}: {got[1]}")


@ledger.command("rebuild")
@db_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="New database file to write (must not exist).")
def rebuild_cmd(db_path: Path | None, out: Path) -> None:
    """Replay the ledger into a fresh database; compare with `laogan db checksum`."""
    from server.db import open_reader
    from server.ledger_audit import rebuild

    if out.exists():
        raise click.ClickException(f"{out} 已存在 (exists; rebuild writes a fresh database)")

    conn = open_reader(db_path or load_settings().db_path)
    try:
        n = rebuild(conn, out, progress=lambda k: click.echo(f"  replayed {k} entries", err=True))
    finally:
        conn.close()
    click.echo(f"rebuilt {out} from {n} ledger entries")


@click.group("db")
def db() -> None:
    """Inspect the central database (中心数据库)."""


@db.command("checksum")
@db_option
def checksum(db_path: Path | None) -> None:
    """Print a content hash per ledgered table (a rebuilt database must print the same)."""
    from server.db import open_reader
    from server.ledger_audit import table_checksums

    conn = open_reader(db_path or load_settings().db_path)
    try:
        sums = table_checksums(conn)
    finally:
        conn.close()
    for name, digest in sums.items():
        click.echo(f"{digest}  {name}")
