"""The sealed envelope, wire format v1: how a changeset travels between a tablet and the server.

An envelope is a fixed 90-byte big-endian header, the HPKE ciphertext of the zstd-compressed
changeset (with the header bytes bound as HPKE ``info``), and an Ed25519 signature over both::

    header (90) || ciphertext length (u32) || ciphertext (enc || ct) || signature (64)

Receiving is ``parse`` (strict, no crypto) → ``verify`` (signature) → ``open_`` (decrypt, check,
decompress); ``verify_and_open`` does the three in that order, so nothing about the payload is
learned before the signature verifies.  Every failure raises :class:`schema.errors.EnvelopeError`
with one of :data:`ENVELOPE_ERROR_CODES`.  Bad *arguments* to ``seal`` raise ``ValueError``.
The byte layout, the suite and the check order are specified in ``docs/protocol.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import uuid
from dataclasses import dataclass

import zstandard
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from schema.errors import EnvelopeError

__all__ = [
    "AEAD_CHACHA20_POLY1305",
    "ENVELOPE_ERROR_CODES",
    "FORMAT_VERSION",
    "HEADER_SIZE",
    "KDF_HKDF_SHA256",
    "KEM_X25519",
    "KINDS",
    "KIND_PULL",
    "KIND_UPLOAD",
    "MAGIC",
    "MAX_CHANGESET",
    "MAX_ENVELOPE",
    "SIGNATURE_SIZE",
    "Header",
    "Opened",
    "Parsed",
    "bytes_to_uuid",
    "open_",
    "parse",
    "peek_device_id",
    "seal",
    "uuid_to_bytes",
    "verify",
    "verify_and_open",
]

MAGIC = b"LGAN"
FORMAT_VERSION = 1

KIND_UPLOAD = 1
"""Tablet → server: sealed to the server's X25519 key, signed by the device's Ed25519 key."""
KIND_PULL = 2
"""Server → tablet: sealed to the device's X25519 key, signed by the server's Ed25519 key."""
KINDS = (KIND_UPLOAD, KIND_PULL)

# RFC 9180 identifiers of the only suite of format version 1.
KEM_X25519 = 0x0020  # DHKEM(X25519, HKDF-SHA256)
KDF_HKDF_SHA256 = 0x0001
AEAD_CHACHA20_POLY1305 = 0x0003

ENC_SIZE = 32  # X25519 encapsulated key
TAG_SIZE = 16  # Poly1305 tag
CIPHERTEXT_OVERHEAD = ENC_SIZE + TAG_SIZE
SIGNATURE_SIZE = 64

MAX_ENVELOPE = 64 * 1024 * 1024
MAX_CHANGESET = 256 * 1024 * 1024
ZSTD_LEVEL = 3
ZSTD_MAX_WINDOW = 1 << 27  # libzstd's own default decoder limit, stated explicitly

ENVELOPE_ERROR_CODES = (
    "envelope_malformed",
    "envelope_too_large",
    "unsupported_version",
    "unsupported_suite",
    "bad_signature",
    "cannot_open",
)

_HEADER = struct.Struct(">4sBBHHH16sQQHqI32s")
_U32 = struct.Struct(">I")
HEADER_SIZE = _HEADER.size  # 90
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


def uuid_to_bytes(value: str) -> bytes:
    """The 16 raw bytes of a UUID given in canonical form (lowercase, hyphenated); else ValueError."""
    parsed = uuid.UUID(value)
    if str(parsed) != value:
        raise ValueError("device id must be a canonical lowercase hyphenated UUID")
    return parsed.bytes


def bytes_to_uuid(raw: bytes) -> str:
    """The canonical string form of a UUID given as 16 raw bytes."""
    if len(raw) != 16:
        raise ValueError("a UUID is exactly 16 bytes")
    return str(uuid.UUID(bytes=bytes(raw)))


@dataclass(frozen=True)
class Header:
    """The fixed-size envelope header; every field is on the wire, in this order."""

    version: int
    kind: int
    kem_id: int
    kdf_id: int
    aead_id: int
    device_id: str
    seq: int
    cursor: int
    schema_version: int
    created_at: int
    payload_length: int
    payload_sha256: bytes

    def to_bytes(self) -> bytes:
        """Encode exactly (ValueError if a field does not fit its width); no semantic checks."""
        if len(self.payload_sha256) != 32:
            raise ValueError("payload_sha256 must be 32 bytes")
        try:
            return _HEADER.pack(
                MAGIC,
                self.version,
                self.kind,
                self.kem_id,
                self.kdf_id,
                self.aead_id,
                uuid_to_bytes(self.device_id),
                self.seq,
                self.cursor,
                self.schema_version,
                self.created_at,
                self.payload_length,
                self.payload_sha256,
            )
        except struct.error as exc:
            raise ValueError(f"header field out of range: {exc}") from None


@dataclass(frozen=True)
class Parsed:
    """A structurally valid envelope whose signature has not been checked yet."""

    header: Header
    header_bytes: bytes
    ciphertext: bytes
    signature: bytes
    signed_bytes: bytes


@dataclass(frozen=True)
class Opened:
    """A verified and decrypted envelope: its header and the raw changeset bytes."""

    header: Header
    changeset: bytes


def _fail(code: str, message: str) -> EnvelopeError:
    return EnvelopeError(code, message)


def _parse_header(data: bytes) -> Header:
    """Check and decode the header at the start of ``data``; fields are checked in wire order."""
    if len(data) < len(MAGIC) + 1 or data[: len(MAGIC)] != MAGIC:
        raise _fail("envelope_malformed", "not a laogan envelope")
    if data[len(MAGIC)] != FORMAT_VERSION:
        raise _fail("unsupported_version", "unsupported envelope format version")
    if len(data) < HEADER_SIZE:
        raise _fail("envelope_malformed", "truncated envelope header")
    (_, version, kind, kem_id, kdf_id, aead_id, device_raw, seq, cursor, schema_version, created_at,
     payload_length, payload_sha256) = _HEADER.unpack_from(data, 0)  # fmt: skip
    if kind not in KINDS:
        raise _fail("envelope_malformed", "unknown envelope kind")
    if (kem_id, kdf_id, aead_id) != (KEM_X25519, KDF_HKDF_SHA256, AEAD_CHACHA20_POLY1305):
        raise _fail("unsupported_suite", "unsupported HPKE suite")
    if kind == KIND_UPLOAD and (seq < 1 or cursor != 0):
        raise _fail("envelope_malformed", "upload envelope needs seq >= 1 and cursor 0")
    if kind == KIND_PULL and cursor < seq:
        raise _fail("envelope_malformed", "pull envelope cursor is behind its seq")
    return Header(
        version=version,
        kind=kind,
        kem_id=kem_id,
        kdf_id=kdf_id,
        aead_id=aead_id,
        device_id=bytes_to_uuid(device_raw),
        seq=seq,
        cursor=cursor,
        schema_version=schema_version,
        created_at=created_at,
        payload_length=payload_length,
        payload_sha256=payload_sha256,
    )


def peek_device_id(data: bytes) -> str:
    """The device id of an envelope, from its header only (to look up the verifying key)."""
    return _parse_header(bytes(data[:HEADER_SIZE])).device_id


def parse(data: bytes, *, max_envelope: int = MAX_ENVELOPE) -> Parsed:
    """Strictly split an envelope into its parts; no cryptography is done here."""
    data = bytes(data)
    if len(data) > max_envelope:
        raise _fail("envelope_too_large", "envelope exceeds the size limit")
    header = _parse_header(data)
    body_start = HEADER_SIZE + _U32.size
    if len(data) < body_start:
        raise _fail("envelope_malformed", "truncated envelope")
    (ct_len,) = _U32.unpack_from(data, HEADER_SIZE)
    if ct_len != header.payload_length + CIPHERTEXT_OVERHEAD:
        raise _fail("envelope_malformed", "ciphertext length does not match payload length")
    if len(data) != body_start + ct_len + SIGNATURE_SIZE:
        raise _fail("envelope_malformed", "envelope length does not match its declared lengths")
    signed_end = body_start + ct_len
    return Parsed(
        header=header,
        header_bytes=data[:HEADER_SIZE],
        ciphertext=data[body_start:signed_end],
        signature=data[signed_end:],
        signed_bytes=data[:signed_end],
    )


def verify(parsed: Parsed, signer_public: Ed25519PublicKey) -> None:
    """Check the Ed25519 signature over header || ciphertext length || ciphertext."""
    try:
        signer_public.verify(parsed.signature, parsed.signed_bytes)
    except InvalidSignature:
        raise _fail("bad_signature", "envelope signature does not verify") from None


def _hpke_open(ciphertext: bytes, recipient_private: X25519PrivateKey, info: bytes) -> bytes:
    return _SUITE.decrypt(ciphertext, recipient_private, info=info)


def _decompress(compressed: bytes, max_changeset: int) -> bytes:
    """Decompress exactly one zstd frame that declares its size, refusing anything over the limit."""
    failure = _fail("cannot_open", "envelope payload cannot be opened")
    if not compressed.startswith(_ZSTD_MAGIC):
        raise failure
    try:
        params = zstandard.get_frame_parameters(compressed)
    except zstandard.ZstdError:
        raise failure from None
    size = int(params.content_size)
    if size in (zstandard.CONTENTSIZE_UNKNOWN, zstandard.CONTENTSIZE_ERROR) or size > max_changeset:
        raise failure
    if int(params.dict_id) != 0:
        raise failure
    # decompressobj rather than decompress(max_output_size=...): the one-shot call silently
    # ignores bytes after the first frame.  libzstd refuses output beyond the declared size.
    dobj = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW).decompressobj()
    try:
        out = bytes(dobj.decompress(compressed))
    except zstandard.ZstdError:
        raise failure from None
    if not dobj.eof or dobj.unused_data or len(out) != size:
        raise failure
    return out


def open_(
    parsed: Parsed, recipient_private: X25519PrivateKey, *, max_changeset: int = MAX_CHANGESET
) -> bytes:
    """Decrypt, check length and sha256, decompress (bounded); call only after :func:`verify`."""
    try:
        compressed = _hpke_open(parsed.ciphertext, recipient_private, parsed.header_bytes)
    except (InvalidTag, ValueError):
        raise _fail("cannot_open", "envelope payload cannot be opened") from None
    digest = hashlib.sha256(compressed).digest()
    if len(compressed) != parsed.header.payload_length or not hmac.compare_digest(
        digest, parsed.header.payload_sha256
    ):
        raise _fail("cannot_open", "envelope payload cannot be opened")
    return _decompress(compressed, max_changeset)


def verify_and_open(
    data: bytes,
    *,
    signer_public: Ed25519PublicKey,
    recipient_private: X25519PrivateKey,
    expected_kind: int,
    expected_device_id: str | None = None,
    max_envelope: int = MAX_ENVELOPE,
    max_changeset: int = MAX_CHANGESET,
) -> Opened:
    """Parse → header expectations → verify → open; the only receive path callers should need."""
    parsed = parse(data, max_envelope=max_envelope)
    if parsed.header.kind != expected_kind:
        raise _fail("envelope_malformed", "unexpected envelope kind")
    if expected_device_id is not None and parsed.header.device_id != expected_device_id:
        raise _fail("envelope_malformed", "envelope is for another device")
    verify(parsed, signer_public)
    changeset = open_(parsed, recipient_private, max_changeset=max_changeset)
    return Opened(header=parsed.header, changeset=changeset)


def _compress(changeset: bytes) -> bytes:
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True)
    return bytes(compressor.compress(changeset))


def _assemble(
    header_bytes: bytes,
    compressed: bytes,
    signing_key: Ed25519PrivateKey,
    recipient: X25519PublicKey,
) -> bytes:
    """Encrypt and sign without any checks (``seal`` checks first; tests use this to forge)."""
    ciphertext = _SUITE.encrypt(compressed, recipient, info=header_bytes)
    signed = header_bytes + _U32.pack(len(ciphertext)) + ciphertext
    return signed + signing_key.sign(signed)


def seal(
    changeset: bytes,
    *,
    kind: int,
    device_id: str,
    seq: int,
    cursor: int,
    schema_version: int,
    now: int,
    signing_key: Ed25519PrivateKey,
    recipient: X25519PublicKey,
    max_envelope: int = MAX_ENVELOPE,
    max_changeset: int = MAX_CHANGESET,
) -> bytes:
    """Compress, encrypt to ``recipient`` and sign a changeset; ValueError on bad arguments."""
    changeset = bytes(changeset)
    if len(changeset) > max_changeset:
        raise ValueError("changeset exceeds max_changeset; split it")
    compressed = _compress(changeset)
    header = Header(
        version=FORMAT_VERSION,
        kind=kind,
        kem_id=KEM_X25519,
        kdf_id=KDF_HKDF_SHA256,
        aead_id=AEAD_CHACHA20_POLY1305,
        device_id=device_id,
        seq=seq,
        cursor=cursor,
        schema_version=schema_version,
        created_at=now,
        payload_length=len(compressed),
        payload_sha256=hashlib.sha256(compressed).digest(),
    )
    header_bytes = header.to_bytes()
    try:
        _parse_header(header_bytes)  # seal never emits what parse would refuse
    except EnvelopeError as exc:
        raise ValueError(str(exc)) from None
    if HEADER_SIZE + _U32.size + len(compressed) + CIPHERTEXT_OVERHEAD + SIGNATURE_SIZE > max_envelope:
        raise ValueError("sealed envelope would exceed max_envelope; split the changeset")
    return _assemble(header_bytes, compressed, signing_key, recipient)
