"""The sealed envelope: round trips, the strict parser, the check order, tampering, bombs."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from schema import envelope
from schema.envelope import (
    ENVELOPE_ERROR_CODES,
    HEADER_SIZE,
    KIND_PULL,
    KIND_UPLOAD,
    SIGNATURE_SIZE,
    bytes_to_uuid,
    open_,
    parse,
    peek_device_id,
    seal,
    uuid_to_bytes,
    verify,
    verify_and_open,
)
from schema.errors import EnvelopeError
from schema.keys import KeyPair

DEVICE_ID = "0b8e4f7a-3c21-4d5e-9f60-718293a4b5c6"
NOW = 1_767_225_600
CHANGESET = b"changeset bytes \x00\x01\x02 " * 3
CT_LEN_OFFSET = HEADER_SIZE
CT_OFFSET = HEADER_SIZE + 4


def fixed(label: str) -> Callable[[int], bytes]:
    counter = iter(range(1_000))
    return lambda n: hashlib.sha256(f"{label}:{next(counter)}".encode()).digest()[:n]


DEVICE = KeyPair.generate(fixed("device"))
SERVER = KeyPair.generate(fixed("server"))
OTHER = KeyPair.generate(fixed("other"))


def upload(changeset: bytes = CHANGESET, **overrides: Any) -> bytes:
    args: dict[str, Any] = {
        "kind": KIND_UPLOAD,
        "device_id": DEVICE_ID,
        "seq": 1,
        "cursor": 0,
        "schema_version": 3,
        "now": NOW,
        "signing_key": DEVICE.sign_key,
        "recipient": SERVER.box_public,
    }
    args.update(overrides)
    return seal(changeset, **args)


def receive(data: bytes, **overrides: Any) -> envelope.Opened:
    args: dict[str, Any] = {
        "signer_public": DEVICE.sign_public,
        "recipient_private": SERVER.box_key,
        "expected_kind": KIND_UPLOAD,
    }
    args.update(overrides)
    return verify_and_open(data, **args)


def code_of(fn: Callable[..., object], *args: Any, **kwargs: Any) -> str:
    """The code of the EnvelopeError that ``fn(*args, **kwargs)`` raises (which it must)."""
    with pytest.raises(EnvelopeError) as info:
        fn(*args, **kwargs)
    assert info.value.code in ENVELOPE_ERROR_CODES
    return info.value.code


def patched(data: bytes, offset: int, fmt: str, value: Any) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def forged(header: envelope.Header, compressed: bytes, to: KeyPair = SERVER) -> bytes:
    """Encrypted and signed correctly by the device, around any header and payload."""
    return envelope._assemble(header.to_bytes(), compressed, DEVICE.sign_key, to.box_public)


def good_header(compressed: bytes) -> envelope.Header:
    return replace(
        parse(upload()).header,
        payload_length=len(compressed),
        payload_sha256=hashlib.sha256(compressed).digest(),
    )


@pytest.fixture
def decrypts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every successful HPKE decryption, recorded."""
    seen: list[bytes] = []
    real = envelope._hpke_open

    def spy(ciphertext: bytes, key: Any, info: bytes) -> bytes:
        out = real(ciphertext, key, info)
        seen.append(out)
        return out

    monkeypatch.setattr(envelope, "_hpke_open", spy)
    yield seen


# --- round trips and layout ---------------------------------------------------------------


def test_upload_round_trip() -> None:
    data = upload(seq=42)
    opened = receive(data, expected_device_id=DEVICE_ID)
    assert opened.changeset == CHANGESET
    h = opened.header
    assert (h.version, h.kind, h.device_id, h.seq, h.cursor) == (1, KIND_UPLOAD, DEVICE_ID, 42, 0)
    assert (h.kem_id, h.kdf_id, h.aead_id) == (0x0020, 0x0001, 0x0003)
    assert (h.schema_version, h.created_at) == (3, NOW)
    compressed = zstandard.ZstdCompressor(level=3, write_content_size=True).compress(CHANGESET)
    assert h.payload_length == len(compressed)
    assert h.payload_sha256 == hashlib.sha256(compressed).digest()


def test_pull_round_trip() -> None:
    data = seal(
        CHANGESET, kind=KIND_PULL, device_id=DEVICE_ID, seq=10, cursor=25, schema_version=1, now=NOW,
        signing_key=SERVER.sign_key, recipient=DEVICE.box_public,
    )  # fmt: skip
    opened = verify_and_open(
        data, signer_public=SERVER.sign_public, recipient_private=DEVICE.box_key, expected_kind=KIND_PULL
    )
    assert (opened.changeset, opened.header.seq, opened.header.cursor) == (CHANGESET, 10, 25)


@pytest.mark.parametrize("changeset", [b"", b"x", bytes(range(256)) * 1000])
def test_round_trip_sizes(changeset: bytes) -> None:
    assert receive(upload(changeset)).changeset == changeset


def test_byte_layout() -> None:
    data = upload(seq=0x0102030405060708, schema_version=0x0A0B, now=-5)
    p = parse(data)
    assert data[:4] == b"LGAN" and data[4] == 1 and data[5] == KIND_UPLOAD
    assert data[6:12] == bytes.fromhex("002000010003")
    assert data[12:28] == uuid_to_bytes(DEVICE_ID)
    assert data[28:36] == bytes.fromhex("0102030405060708")
    assert data[36:44] == bytes(8)
    assert data[44:46] == bytes.fromhex("0a0b")
    assert data[46:54] == (-5).to_bytes(8, "big", signed=True)
    assert int.from_bytes(data[54:58], "big") == p.header.payload_length
    assert data[58:90] == p.header.payload_sha256
    ct_len = int.from_bytes(data[90:94], "big")
    assert ct_len == p.header.payload_length + 48 == len(p.ciphertext)
    assert len(data) == HEADER_SIZE + 4 + ct_len + SIGNATURE_SIZE
    assert p.header_bytes == data[:90] == p.header.to_bytes()
    assert p.signed_bytes == data[: 94 + ct_len] and p.signature == data[-64:]
    assert p.header.seq == 0x0102030405060708 and p.header.created_at == -5


def test_hpke_is_randomized_but_both_open() -> None:
    a, b = upload(), upload()
    assert a != b
    assert receive(a).changeset == receive(b).changeset == CHANGESET


# --- tampering ------------------------------------------------------------------------------


def test_every_single_bit_flip_is_rejected_before_any_decryption(decrypts: list[bytes]) -> None:
    data = upload(b"tiny")
    assert len(data) < 300
    codes: dict[int, set[str]] = {}
    for pos in range(len(data)):
        for bit in (0, 3, 7):
            mutated = bytearray(data)
            mutated[pos] ^= 1 << bit
            codes.setdefault(pos, set()).add(code_of(receive, bytes(mutated)))
    assert decrypts == []
    assert codes[4] == {"unsupported_version"}
    assert codes[CT_LEN_OFFSET + 3] == {"envelope_malformed"}
    for pos in range(CT_OFFSET, len(data)):  # ciphertext and signature
        assert codes[pos] == {"bad_signature"}, pos
    for pos in range(28, 54):  # seq (ok while >= 1), cursor (must stay 0), schema version, created_at
        assert codes[pos] <= {"bad_signature", "envelope_malformed"}
    receive(data)
    assert len(decrypts) == 1  # the unmodified envelope does decrypt: the spy works


def test_wrong_signer_and_wrong_recipient() -> None:
    assert code_of(receive, upload(signing_key=OTHER.sign_key)) == "bad_signature"
    assert code_of(receive, upload(), signer_public=SERVER.sign_public) == "bad_signature"
    assert code_of(receive, upload(recipient=OTHER.box_public)) == "cannot_open"
    assert code_of(receive, upload(), recipient_private=DEVICE.box_key) == "cannot_open"


def test_signature_checked_before_decryption(decrypts: list[bytes]) -> None:
    data = upload()
    bad = code_of(receive, data, signer_public=OTHER.sign_public, recipient_private=OTHER.box_key)
    assert bad == "bad_signature" and decrypts == []


def test_header_swapped_between_envelopes() -> None:
    a, b = parse(upload(b"A" * 40, seq=1)), parse(upload(b"B" * 40, seq=2))
    assert a.header.payload_length == b.header.payload_length
    swapped = b.header_bytes + a.signed_bytes[HEADER_SIZE:] + a.signature
    assert code_of(receive, swapped) == "bad_signature"
    # Even the device itself, re-signing, cannot move a ciphertext under another header:
    # the header is HPKE info, so decryption fails.
    signed = b.header_bytes + a.signed_bytes[HEADER_SIZE:]
    resigned = signed + DEVICE.sign_key.sign(signed)
    assert code_of(receive, resigned) == "cannot_open"


def test_truncated_and_extended() -> None:
    data = upload()
    for n in range(len(data)):
        assert code_of(parse, data[:n]) == "envelope_malformed", n
    for extra in (b"\x00", bytes(64), data):
        assert code_of(parse, data + extra) == "envelope_malformed"


def test_ciphertext_length_field_must_match() -> None:
    data = upload()
    ct_len = int.from_bytes(data[90:94], "big")
    for value in (ct_len - 1, ct_len + 1, 0, 2**32 - 1):
        assert code_of(parse, patched(data, 90, ">I", value)) == "envelope_malformed"


# --- the strict parser ----------------------------------------------------------------------


SUITE_FIELDS = {6: 0x0020, 8: 0x0001, 10: 0x0003}  # offset → the only v1 value


@pytest.mark.parametrize("offset", sorted(SUITE_FIELDS))
@pytest.mark.parametrize("value", [0x0000, 0x0001, 0x0002, 0x0003, 0x0010, 0x0020, 0x0021, 0x647A, 0xFFFF])
def test_unsupported_suite(offset: int, value: int) -> None:
    data = patched(upload(), offset, ">H", value)
    if value == SUITE_FIELDS[offset]:
        assert parse(data).header.device_id == DEVICE_ID
        return
    assert code_of(parse, data) == "unsupported_suite"
    assert code_of(peek_device_id, data) == "unsupported_suite"


@pytest.mark.parametrize("version", [0, 2, 255])
def test_unsupported_version(version: int) -> None:
    data = patched(upload(), 4, ">B", version)
    assert code_of(parse, data) == "unsupported_version"
    assert code_of(parse, data[:5]) == "unsupported_version"  # decided from 5 bytes


@pytest.mark.parametrize(
    ("offset", "fmt", "value"),
    [(5, ">B", 0), (5, ">B", 3), (5, ">B", 255), (0, ">4s", b"LGAM"), (0, ">4s", b"lgan"), (0, ">I", 0)],
)
def test_unknown_kind_or_magic(offset: int, fmt: str, value: Any) -> None:
    assert code_of(parse, patched(upload(), offset, fmt, value)) == "envelope_malformed"


def test_kind_rules_are_enforced_even_when_validly_signed() -> None:
    compressed = envelope._compress(CHANGESET)
    header = good_header(compressed)
    assert receive(forged(header, compressed)).changeset == CHANGESET
    for bad in (replace(header, seq=0), replace(header, cursor=1)):
        assert code_of(receive, forged(bad, compressed)) == "envelope_malformed"
    pull = replace(header, kind=KIND_PULL, seq=5, cursor=4)
    assert code_of(parse, forged(pull, compressed)) == "envelope_malformed"


def test_size_limit_and_expectations() -> None:
    data = upload()
    assert parse(data, max_envelope=len(data)).header.device_id == DEVICE_ID
    assert code_of(parse, data, max_envelope=len(data) - 1) == "envelope_too_large"
    assert code_of(receive, data, max_envelope=100) == "envelope_too_large"
    assert code_of(receive, data, expected_kind=KIND_PULL) == "envelope_malformed"
    other = "11111111-2222-4333-8444-555555555555"
    assert code_of(receive, data, expected_device_id=other) == "envelope_malformed"


def test_peek_device_id() -> None:
    assert peek_device_id(upload()) == DEVICE_ID
    assert peek_device_id(upload()[:HEADER_SIZE]) == DEVICE_ID
    assert code_of(peek_device_id, upload()[: HEADER_SIZE - 1]) == "envelope_malformed"
    assert code_of(peek_device_id, b"") == "envelope_malformed"


@settings(max_examples=400)
@given(st.binary(max_size=400))
def test_fuzz_parse_random_bytes(data: bytes) -> None:
    try:
        parse(data)
    except EnvelopeError as exc:
        assert exc.code in ENVELOPE_ERROR_CODES


@settings(max_examples=400)
@given(st.binary(min_size=HEADER_SIZE - 6, max_size=300))
def test_fuzz_parse_behind_valid_magic(tail: bytes) -> None:
    for data in (b"LGAN\x01" + tail, b"LGAN\x01\x01\x00\x20\x00\x01\x00\x03" + tail):
        try:
            peek_device_id(data)
            parse(data)
        except EnvelopeError as exc:
            assert exc.code in ENVELOPE_ERROR_CODES


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 255)), min_size=1, max_size=4))
def test_fuzz_mutated_envelope(edits: list[tuple[int, int]]) -> None:
    original = upload(b"fuzz")
    data = bytearray(original)
    for pos, value in edits:
        if pos < len(data):
            data[pos] = value
    try:
        assert receive(bytes(data)).changeset == b"fuzz"
    except EnvelopeError as exc:
        assert exc.code in ENVELOPE_ERROR_CODES
    else:
        assert bytes(data) == original  # only the untouched envelope may open


# --- bounded decompression ------------------------------------------------------------------


def test_zstd_bomb_declared_size_over_limit(decrypts: list[bytes]) -> None:
    data = upload(bytes(1 << 20))
    assert len(data) < 2000
    assert code_of(receive, data, max_changeset=1000) == "cannot_open"
    assert len(decrypts) == 1  # decrypted fine, refused at decompression
    assert receive(data, max_changeset=1 << 20).changeset == bytes(1 << 20)


def test_forged_frames_declaring_too_much_are_refused() -> None:
    frame = bytearray(envelope._compress(b"x" * 300))
    assert frame[4] & 0xC0 == 0x40  # 2-byte frame content size field
    huge = zstandard.ZstdCompressor(level=3).compress(bytes(2**20))  # declares 1 MiB
    for compressed in (huge, bytes(frame[:5]) + b"\xff\xff" + bytes(frame[7:])):
        assert (
            code_of(receive, forged(good_header(compressed), compressed), max_changeset=500) == "cannot_open"
        )


_FRAME = envelope._compress(CHANGESET)
BAD_ZSTD = {
    "no_content_size": zstandard.ZstdCompressor(level=3, write_content_size=False).compress(CHANGESET),
    "trailing_byte": _FRAME + b"\x00",
    "two_frames": _FRAME * 2,
    "truncated_frame": _FRAME[:-1],
    "not_zstd": b"not zstd at all",
    "empty": b"",
    "skippable": struct.pack("<II", 0x184D2A50, 4) + b"skip",
}


@pytest.mark.parametrize("compressed", BAD_ZSTD.values(), ids=BAD_ZSTD.keys())
def test_bad_zstd_payloads(compressed: bytes) -> None:
    assert code_of(receive, forged(good_header(compressed), compressed)) == "cannot_open"


def test_payload_hash_and_length_are_checked() -> None:
    compressed = envelope._compress(CHANGESET)
    wrong_hash = replace(good_header(compressed), payload_sha256=hashlib.sha256(b"other").digest())
    assert code_of(receive, forged(wrong_hash, compressed)) == "cannot_open"


def test_plaintext_length_is_checked_even_if_hpke_misbehaved(monkeypatch: pytest.MonkeyPatch) -> None:
    longer = envelope._compress(CHANGESET + b"!")
    header = replace(
        good_header(envelope._compress(CHANGESET)), payload_sha256=hashlib.sha256(longer).digest()
    )
    data = forged(header, envelope._compress(CHANGESET))
    monkeypatch.setattr(envelope, "_hpke_open", lambda *_: longer)  # hash matches, length does not
    assert code_of(receive, data) == "cannot_open"


def test_verify_and_open_steps_individually() -> None:
    parsed = parse(upload())
    verify(parsed, DEVICE.sign_public)
    assert open_(parsed, SERVER.box_key) == CHANGESET
    assert code_of(verify, parsed, SERVER.sign_public) == "bad_signature"
    assert code_of(open_, parsed, SERVER.box_key, max_changeset=len(CHANGESET) - 1) == "cannot_open"


# --- seal arguments, helpers, codes -----------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [{"kind": 3}, {"seq": 0}, {"cursor": 5}, {"seq": 2**64}, {"schema_version": 2**16}, {"now": 2**63},
     {"device_id": DEVICE_ID.upper()}, {"device_id": DEVICE_ID.replace("-", "")}, {"device_id": "x"},
     {"kind": KIND_PULL, "seq": 9, "cursor": 8}],
)  # fmt: skip
def test_seal_rejects_bad_arguments(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        upload(**overrides)


def test_seal_limits() -> None:
    with pytest.raises(ValueError):
        upload(b"x" * 101, max_changeset=100)
    with pytest.raises(ValueError):
        upload(b"x" * 10, max_envelope=200)
    assert len(upload(b"x" * 100, max_changeset=100)) <= envelope.MAX_ENVELOPE


def test_uuid_helpers() -> None:
    raw = uuid_to_bytes(DEVICE_ID)
    assert raw.hex() == DEVICE_ID.replace("-", "") and bytes_to_uuid(raw) == DEVICE_ID
    with pytest.raises(ValueError):
        bytes_to_uuid(raw[:15])
    for bad in ("{" + DEVICE_ID + "}", "urn:uuid:" + DEVICE_ID, DEVICE_ID.upper(), ""):
        with pytest.raises(ValueError):
            uuid_to_bytes(bad)


def test_error_codes_and_opaque_messages() -> None:
    assert set(ENVELOPE_ERROR_CODES) == {"envelope_malformed", "envelope_too_large", "unsupported_version",
                                         "unsupported_suite", "bad_signature", "cannot_open"}  # fmt: skip
    data = upload(b"SECRET-PAYLOAD")
    for kwargs in ({"recipient_private": OTHER.box_key}, {"signer_public": OTHER.sign_public}):
        with pytest.raises(EnvelopeError) as info:
            receive(data, **kwargs)
        assert "SECRET" not in str(info.value) and info.value.__cause__ is None
        assert info.value.__suppress_context__
