"""Check the ledger offline, sign checkpoints, checksum tables, and rebuild a database from the ledger.

``verify`` needs only the database file and the server's Ed25519 *public* key: it recomputes every
effect hash and entry hash in order, checks each entry commits to its predecessor, and checks every
checkpoint's signature over the head hash it names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import apsw
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schema.keys import b64d, b64e
from schema.migrations import migrate
from schema.tables import table
from server.ledger import GENESIS_HASH, entry_hash, head, iso, ledgered_tables


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    head_hash: str
    checkpoints: int
    first_bad: int | None = None
    reason: str = ""


def _checkpoint_message(ledger_id: int, head_hash: str) -> bytes:
    return f"laogan-ledger-checkpoint\n{ledger_id}\n{head_hash}".encode()


def checkpoint(conn: apsw.Connection, signing_key: Ed25519PrivateKey, now: datetime) -> tuple[int, str] | None:
    """Sign the current head (if not signed already); returns (ledger id, head hash) or None."""
    ledger_id, head_hash = head(conn)
    if ledger_id == 0:
        return None
    last = conn.execute("SELECT ledger_id FROM ledger_checkpoints ORDER BY id DESC LIMIT 1").fetchone()
    if last is not None and int(str(last[0])) == ledger_id:
        return ledger_id, head_hash
    sig = b64e(signing_key.sign(_checkpoint_message(ledger_id, head_hash)))
    with conn:
        conn.execute("INSERT INTO ledger_checkpoints (ledger_id, head_hash, signature, at) VALUES (?,?,?,?)",
                     (ledger_id, head_hash, sig, iso(now)))
    return ledger_id, head_hash


def verify(conn: apsw.Connection, public_key: Ed25519PublicKey,
           progress: Callable[[int], None] | None = None) -> Verdict:
    """Recompute the whole chain; the first entry that does not check out is named."""
    prev = GENESIS_HASH
    hashes: dict[int, str] = {}
    n = 0
    expected_id = 1
    for row in conn.execute(
        "SELECT id, at, kind, actor, device_id, staff_id, summary, effect, effect_sha256, prev_hash, hash"
        " FROM ledger ORDER BY id"
    ):
        (lid, at, kind, actor, device_id, staff_id, summary, effect, effect_sha, prev_hash, h) = row
        lid = int(lid)
        n += 1
        if lid != expected_id:
            return Verdict(False, n, prev, 0, lid, f"entry id {lid} where {expected_id} was expected")
        expected_id += 1
        if hashlib.sha256(effect or b"").hexdigest() != effect_sha:
            return Verdict(False, n, prev, 0, lid, "effect does not match its hash")
        if prev_hash != prev:
            return Verdict(False, n, prev, 0, lid, "does not commit to the previous entry")
        want = entry_hash(id=lid, at=at, kind=kind, actor=actor, device_id=device_id, staff_id=staff_id,
                          summary=summary, effect_sha256=effect_sha, prev_hash=prev_hash)
        if want != h:
            return Verdict(False, n, prev, 0, lid, "entry hash does not match its contents")
        prev = h
        hashes[lid] = h
        if progress is not None and n % 1000 == 0:
            progress(n)
    checked = 0
    for cid, lid, head_hash, sig in conn.execute(
        "SELECT id, ledger_id, head_hash, signature FROM ledger_checkpoints ORDER BY id"
    ):
        if hashes.get(int(lid)) != head_hash:
            return Verdict(False, n, prev, checked, int(lid), f"checkpoint {cid} names a hash not in the chain")
        try:
            public_key.verify(b64d(str(sig)), _checkpoint_message(int(lid), str(head_hash)))
        except (InvalidSignature, ValueError):
            return Verdict(False, n, prev, checked, int(lid), f"checkpoint {cid} signature is not the server's")
        checked += 1
    return Verdict(True, n, prev, checked)


def table_checksums(conn: apsw.Connection, names: tuple[str, ...] | None = None) -> dict[str, str]:
    """SHA-256 of each table's rows in primary-key order (canonical JSON, blobs as hex)."""
    out: dict[str, str] = {}
    for name in names or ledgered_tables():
        t = table(name)
        h = hashlib.sha256()
        cols = ", ".join(f'"{c}"' for c in t.column_names())
        for row in conn.execute(f'SELECT {cols} FROM "{name}" ORDER BY "{t.pk}"'):
            vals = [v.hex() if isinstance(v, bytes) else v for v in row]
            h.update(json.dumps(vals, ensure_ascii=False, separators=(",", ":")).encode())
            h.update(b"\n")
        out[name] = h.hexdigest()
    return out


def rebuild(source: apsw.Connection, out_path: Path, progress: Callable[[int], None] | None = None) -> int:
    """Replay every ledger effect, in order, into a fresh central database at ``out_path``.

    Returns the number of entries replayed. Any conflict while replaying means the ledger does not
    describe the database, and raises.
    """
    if out_path.exists():
        raise FileExistsError(f"{out_path} exists; rebuild writes a fresh database")
    target = apsw.Connection(str(out_path))
    try:
        target.execute("PRAGMA foreign_keys = ON")
        migrate(target, "central")

        def refuse(reason: int, change: apsw.TableChange) -> int:
            raise RuntimeError(f"ledger replay conflict ({reason}) on {change.name}")

        n = 0
        with target:
            for (effect,) in source.execute("SELECT effect FROM ledger ORDER BY id"):
                n += 1
                if effect:
                    apsw.Changeset.apply(effect, target, conflict=refuse)
                if progress is not None and n % 1000 == 0:
                    progress(n)
        return n
    finally:
        target.close()


def maybe_checkpoint(conn: apsw.Connection, signing_key: Ed25519PrivateKey, now: datetime,
                     every: int = 100) -> None:
    """Sign the head when ``every`` entries have been added since the last checkpoint."""
    ledger_id, _ = head(conn)
    last = conn.execute("SELECT coalesce(max(ledger_id), 0) FROM ledger_checkpoints").fetchone()
    if last is not None and ledger_id - int(str(last[0])) >= every:
        checkpoint(conn, signing_key, now)
