"""Regenerate ``tests/vectors/envelope_v1.json``: ``.venv/bin/python -m tests.vectors.make_vectors``.

Keys come from fixed seeds, so they never change.  HPKE encryption is randomized, so every run
writes different envelope bytes; all of them are equally valid, and the test only needs the
stored ones to be self-consistent.  Do not regenerate casually: other implementations pin the
committed file.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import apsw
import zstandard

from schema import auth, envelope
from schema.keys import KeyPair

OUT = Path(__file__).with_name("envelope_v1.json")

DEVICE_ID = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
CREATED_AT = 1767225600  # 2026-01-01T00:00:00Z
SCHEMA_VERSION = 1
PRE_STATE = ["CREATE TABLE t(id TEXT PRIMARY KEY, v TEXT)", "INSERT INTO t VALUES ('a','one'),('b','two')"]
OPERATIONS = [
    "INSERT INTO t VALUES ('c','three')",
    "UPDATE t SET v='TWO' WHERE id='b'",
    "DELETE FROM t WHERE id='a'",
]
POST_STATE = [["b", "TWO"], ["c", "three"]]


def seeded(label: str) -> Callable[[int], bytes]:
    """A deterministic byte source: sha256(label || counter) blocks, consumed in order."""
    counter = 0

    def draw(n: int) -> bytes:
        nonlocal counter
        out = b""
        while len(out) < n:
            out += hashlib.sha256(f"laogan-vector:{label}:{counter}".encode()).digest()
            counter += 1
        return out[:n]

    return draw


def parties() -> dict[str, KeyPair]:
    """The fixed key pairs: a device, the server, and an unrelated party for negative vectors."""
    return {name: KeyPair.generate(seeded(name)) for name in ("device", "server", "other")}


def make_changeset() -> bytes:
    """A real SQLite session changeset: one insert, one update, one delete on ``t``."""
    con = apsw.Connection(":memory:")
    for sql in PRE_STATE:
        con.execute(sql)
    session = apsw.Session(con, "main")
    session.attach("t")
    for sql in OPERATIONS:
        con.execute(sql)
    return bytes(session.changeset())


def key_json(pair: KeyPair) -> dict[str, str]:
    sign_raw, box_raw = pair.private_bytes()
    sign_pub, box_pub = pair.public_bytes()
    return {
        "ed25519_private": sign_raw.hex(),
        "ed25519_public": sign_pub.hex(),
        "x25519_private": box_raw.hex(),
        "x25519_public": box_pub.hex(),
    }


def header_json(header: envelope.Header) -> dict[str, Any]:
    return {
        "version": header.version,
        "kind": header.kind,
        "kem_id": header.kem_id,
        "kdf_id": header.kdf_id,
        "aead_id": header.aead_id,
        "device_id": header.device_id,
        "seq": header.seq,
        "cursor": header.cursor,
        "schema_version": header.schema_version,
        "created_at": header.created_at,
        "payload_length": header.payload_length,
        "payload_sha256": header.payload_sha256.hex(),
    }


def header_for(compressed: bytes, *, kind: int, seq: int, cursor: int) -> envelope.Header:
    return envelope.Header(
        version=envelope.FORMAT_VERSION,
        kind=kind,
        kem_id=envelope.KEM_X25519,
        kdf_id=envelope.KDF_HKDF_SHA256,
        aead_id=envelope.AEAD_CHACHA20_POLY1305,
        device_id=DEVICE_ID,
        seq=seq,
        cursor=cursor,
        schema_version=SCHEMA_VERSION,
        created_at=CREATED_AT,
        payload_length=len(compressed),
        payload_sha256=hashlib.sha256(compressed).digest(),
    )


def forge(
    keys: dict[str, KeyPair], header: envelope.Header, compressed: bytes, signer: str, to: str
) -> bytes:
    """A correctly encrypted and signed envelope around an arbitrary header and payload."""
    return envelope._assemble(header.to_bytes(), compressed, keys[signer].sign_key, keys[to].box_public)


def positive(
    keys: dict[str, KeyPair], changeset: bytes, name: str, kind: int, seq: int, cursor: int
) -> dict[str, Any]:
    signer, recipient = ("device", "server") if kind == envelope.KIND_UPLOAD else ("server", "device")
    data = envelope.seal(
        changeset,
        kind=kind,
        device_id=DEVICE_ID,
        seq=seq,
        cursor=cursor,
        schema_version=SCHEMA_VERSION,
        now=CREATED_AT,
        signing_key=keys[signer].sign_key,
        recipient=keys[recipient].box_public,
    )
    parsed = envelope.parse(data)
    compressed = envelope._hpke_open(parsed.ciphertext, keys[recipient].box_key, parsed.header_bytes)
    return {
        "name": name,
        "signer": signer,
        "recipient": recipient,
        "header": header_json(parsed.header),
        "header_hex": parsed.header_bytes.hex(),
        "compressed_hex": compressed.hex(),
        "ciphertext_hex": parsed.ciphertext.hex(),
        "signature_hex": parsed.signature.hex(),
        "envelope_hex": data.hex(),
        "changeset_hex": changeset.hex(),
    }


def negatives(keys: dict[str, KeyPair], upload: bytes, changeset: bytes) -> list[dict[str, Any]]:
    compressed = envelope._compress(changeset)
    good = header_for(compressed, kind=envelope.KIND_UPLOAD, seq=7, cursor=0)

    def case(name: str, data: bytes, code: str, why: str, **params: Any) -> dict[str, Any]:
        row: dict[str, Any] = {"name": name, "description": why, "envelope_hex": data.hex()}
        row.update(signer="device", recipient="server", expected_kind=envelope.KIND_UPLOAD)
        row.update(params)
        row["expected_code"] = code
        return row

    flipped = bytearray(upload)
    flipped[envelope.HEADER_SIZE + 4 + 40] ^= 0x01
    no_size = zstandard.ZstdCompressor(level=3, write_content_size=False).compress(changeset)
    bomb = envelope._compress(bytes(4096))
    trailing = compressed + b"\x00\x00\x00\x00"
    ct_len_off = envelope.HEADER_SIZE
    bad_ct_len = bytearray(upload)
    struct.pack_into(">I", bad_ct_len, ct_len_off, struct.unpack_from(">I", upload, ct_len_off)[0] + 1)
    return [
        case("bad_magic", b"LGAM" + upload[4:], "envelope_malformed", "magic is not LGAN"),
        case("truncated", upload[:-1], "envelope_malformed", "last signature byte missing"),
        case("trailing_byte", upload + b"\x00", "envelope_malformed", "one byte after the signature"),
        case(
            "ciphertext_length_mismatch",
            bytes(bad_ct_len),
            "envelope_malformed",
            "ciphertext length field is not payload_length + 48",
        ),
        case(
            "upload_seq_zero",
            forge(keys, replace(good, seq=0), compressed, "device", "server"),
            "envelope_malformed",
            "upload with seq 0, otherwise valid and signed",
        ),
        case(
            "unexpected_kind",
            upload,
            "envelope_malformed",
            "a valid upload opened where a pull is expected",
            expected_kind=envelope.KIND_PULL,
        ),
        case(
            "too_large",
            upload,
            "envelope_too_large",
            "receiver limit one byte below the size",
            max_envelope=len(upload) - 1,
        ),
        case(
            "version_2",
            forge(keys, replace(good, version=2), compressed, "device", "server"),
            "unsupported_version",
            "format version 2, otherwise valid and signed",
        ),
        case(
            "suite_aes128gcm",
            forge(keys, replace(good, aead_id=0x0001), compressed, "device", "server"),
            "unsupported_suite",
            "AEAD id 0x0001, otherwise valid and signed",
        ),
        case(
            "wrong_signer",
            forge(keys, good, compressed, "other", "server"),
            "bad_signature",
            "signed by a key that is not the device's",
        ),
        case("flipped_ciphertext_bit", bytes(flipped), "bad_signature", "one ciphertext bit flipped"),
        case(
            "wrong_recipient",
            forge(keys, good, compressed, "device", "other"),
            "cannot_open",
            "validly signed but sealed to another X25519 key",
        ),
        case(
            "payload_sha256_mismatch",
            forge(keys, replace(good, payload_sha256=bytes(32)), compressed, "device", "server"),
            "cannot_open",
            "header sha256 is not the sha256 of the compressed payload",
        ),
        case(
            "zstd_no_content_size",
            forge(keys, header_for(no_size, kind=1, seq=7, cursor=0), no_size, "device", "server"),
            "cannot_open",
            "zstd frame without a declared content size",
        ),
        case(
            "zstd_over_limit",
            forge(keys, header_for(bomb, kind=1, seq=7, cursor=0), bomb, "device", "server"),
            "cannot_open",
            "declares 4096 bytes; receiver limit 1024",
            max_changeset=1024,
        ),
        case(
            "zstd_trailing_bytes",
            forge(keys, header_for(trailing, kind=1, seq=7, cursor=0), trailing, "device", "server"),
            "cannot_open",
            "four bytes after the zstd frame",
        ),
    ]


def request_vectors(keys: dict[str, KeyPair]) -> list[dict[str, Any]]:
    rows = []
    for method, path_qs, body in (
        ("GET", "/example?after=41&limit=500", b""),
        ("GET", "/example/%E8%80%81", b""),
    ):
        message = auth.canonical_request(method, path_qs, CREATED_AT, DEVICE_ID, body)
        rows.append({
            "signer": "device",
            "method": method,
            "path_qs": path_qs,
            "body_hex": body.hex(),
            "timestamp": CREATED_AT,
            "device_id": DEVICE_ID,
            "canonical": message.decode("ascii"),
            "authorization": auth.sign_request(
                keys["device"].sign_key, device_id=DEVICE_ID, method=method, path_qs=path_qs,
                body=body, now=CREATED_AT,
            ),
        })  # fmt: skip
    return rows


def build() -> dict[str, Any]:
    keys = parties()
    changeset = make_changeset()
    upload = positive(keys, changeset, "upload", envelope.KIND_UPLOAD, seq=7, cursor=0)
    pull = positive(keys, changeset, "pull", envelope.KIND_PULL, seq=41, cursor=44)
    return {
        "format": "laogan envelope v1 test vectors",
        "regenerate": ".venv/bin/python -m tests.vectors.make_vectors",
        "keys": {name: key_json(pair) for name, pair in keys.items()},
        "changeset": {"pre_state": PRE_STATE, "operations": OPERATIONS, "post_state": POST_STATE},
        "vectors": [upload, pull],
        "negative": negatives(keys, bytes.fromhex(upload["envelope_hex"]), changeset),
        "request_signatures": request_vectors(keys),
    }


def main() -> None:
    OUT.write_text(json.dumps(build(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
