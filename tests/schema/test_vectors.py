"""The committed test vectors (tests/vectors/envelope_v1.json) against this implementation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import apsw
import pytest
import zstandard

from schema import envelope
from schema.auth import canonical_request, parse_auth_header, sign_request, verify_request
from schema.errors import EnvelopeError
from schema.keys import KeyPair

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "envelope_v1.json").read_text(encoding="utf-8")
)
KEYS = {
    name: KeyPair.from_private_bytes(bytes.fromhex(k["ed25519_private"]), bytes.fromhex(k["x25519_private"]))
    for name, k in VECTORS["keys"].items()
}
POSITIVE = VECTORS["vectors"]
NEGATIVE = VECTORS["negative"]


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["name"] for row in rows]


def test_keys_match_their_public_halves() -> None:
    for name, k in VECTORS["keys"].items():
        assert KEYS[name].public_bytes() == (
            bytes.fromhex(k["ed25519_public"]),
            bytes.fromhex(k["x25519_public"]),
        )


def test_coverage() -> None:
    assert sorted(v["header"]["kind"] for v in POSITIVE) == [envelope.KIND_UPLOAD, envelope.KIND_PULL]
    assert {n["expected_code"] for n in NEGATIVE} == set(envelope.ENVELOPE_ERROR_CODES)
    assert len(set(ids(POSITIVE + NEGATIVE))) == len(POSITIVE) + len(NEGATIVE)


@pytest.mark.parametrize("vec", POSITIVE, ids=ids(POSITIVE))
def test_parse_gives_the_stored_header(vec: dict[str, Any]) -> None:
    data = bytes.fromhex(vec["envelope_hex"])
    parsed = envelope.parse(data)
    h = vec["header"]
    expected = envelope.Header(**{**h, "payload_sha256": bytes.fromhex(h["payload_sha256"])})
    assert parsed.header == expected
    assert parsed.header_bytes.hex() == vec["header_hex"]
    assert parsed.ciphertext.hex() == vec["ciphertext_hex"]
    assert parsed.signature.hex() == vec["signature_hex"]
    assert envelope.peek_device_id(data) == h["device_id"]


@pytest.mark.parametrize("vec", POSITIVE, ids=ids(POSITIVE))
def test_header_re_encodes_exactly(vec: dict[str, Any]) -> None:
    h = vec["header"]
    header = envelope.Header(**{**h, "payload_sha256": bytes.fromhex(h["payload_sha256"])})
    assert header.to_bytes().hex() == vec["header_hex"]


@pytest.mark.parametrize("vec", POSITIVE, ids=ids(POSITIVE))
def test_signature_verifies_and_is_deterministic(vec: dict[str, Any]) -> None:
    parsed = envelope.parse(bytes.fromhex(vec["envelope_hex"]))
    signer = KEYS[vec["signer"]]
    envelope.verify(parsed, signer.sign_public)
    assert signer.sign_key.sign(parsed.signed_bytes).hex() == vec["signature_hex"]


@pytest.mark.parametrize("vec", POSITIVE, ids=ids(POSITIVE))
def test_opens_to_the_stored_changeset(vec: dict[str, Any]) -> None:
    opened = envelope.verify_and_open(
        bytes.fromhex(vec["envelope_hex"]),
        signer_public=KEYS[vec["signer"]].sign_public,
        recipient_private=KEYS[vec["recipient"]].box_key,
        expected_kind=vec["header"]["kind"],
        expected_device_id=vec["header"]["device_id"],
    )
    assert opened.changeset.hex() == vec["changeset_hex"]
    compressed = bytes.fromhex(vec["compressed_hex"])
    assert hashlib.sha256(compressed).hexdigest() == vec["header"]["payload_sha256"]
    assert zstandard.ZstdDecompressor().decompress(compressed) == opened.changeset


@pytest.mark.parametrize("vec", POSITIVE, ids=ids(POSITIVE))
def test_changeset_is_a_real_sqlite_changeset(vec: dict[str, Any]) -> None:
    con = apsw.Connection(":memory:")
    for sql in VECTORS["changeset"]["pre_state"]:
        con.execute(sql)
    apsw.Changeset.apply(bytes.fromhex(vec["changeset_hex"]), con)
    rows = [list(r) for r in con.execute("SELECT id, v FROM t ORDER BY id")]
    assert rows == VECTORS["changeset"]["post_state"]


@pytest.mark.parametrize("vec", POSITIVE, ids=ids(POSITIVE))
def test_seal_then_open_with_the_same_inputs(vec: dict[str, Any]) -> None:
    h = vec["header"]
    signer, recipient = KEYS[vec["signer"]], KEYS[vec["recipient"]]
    changeset = bytes.fromhex(vec["changeset_hex"])
    data = envelope.seal(
        changeset, kind=h["kind"], device_id=h["device_id"], seq=h["seq"], cursor=h["cursor"],
        schema_version=h["schema_version"], now=h["created_at"],
        signing_key=signer.sign_key, recipient=recipient.box_public,
    )  # fmt: skip
    assert data != bytes.fromhex(vec["envelope_hex"])  # HPKE is randomized
    opened = envelope.verify_and_open(
        data, signer_public=signer.sign_public, recipient_private=recipient.box_key, expected_kind=h["kind"]
    )
    assert opened.changeset == changeset
    fresh = envelope.parse(data).header_bytes.hex()
    assert fresh[:108] == vec["header_hex"][:108]  # everything before the payload length/hash


@pytest.mark.parametrize("vec", NEGATIVE, ids=ids(NEGATIVE))
def test_negative_vectors(vec: dict[str, Any]) -> None:
    limits = {k: vec[k] for k in ("max_envelope", "max_changeset") if k in vec}
    with pytest.raises(EnvelopeError) as info:
        envelope.verify_and_open(
            bytes.fromhex(vec["envelope_hex"]),
            signer_public=KEYS[vec["signer"]].sign_public,
            recipient_private=KEYS[vec["recipient"]].box_key,
            expected_kind=vec["expected_kind"],
            **limits,
        )
    assert info.value.code == vec["expected_code"]


@pytest.mark.parametrize("vec", VECTORS["request_signatures"], ids=lambda v: v["path_qs"])
def test_request_signature_vectors(vec: dict[str, Any]) -> None:
    signer = KEYS[vec["signer"]]
    body = bytes.fromhex(vec["body_hex"])
    args = (vec["method"], vec["path_qs"], vec["timestamp"], vec["device_id"], body)
    assert canonical_request(*args).decode("ascii") == vec["canonical"]
    header = sign_request(
        signer.sign_key, device_id=vec["device_id"], method=vec["method"], path_qs=vec["path_qs"],
        body=body, now=vec["timestamp"],
    )  # fmt: skip
    assert header == vec["authorization"]
    parsed = parse_auth_header(vec["authorization"])
    verify_request(parsed, signer.sign_public, vec["method"], vec["path_qs"], body, vec["timestamp"])
