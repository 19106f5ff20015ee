"""Key pairs of devices and of the server, their raw encodings and their files.

Every party (each tablet, the server) holds one :class:`KeyPair`: an Ed25519 key that signs
envelopes and requests, and an X25519 key that envelopes are sealed to.  A key directory holds::

    sign.key   Ed25519 private key, 32 raw bytes (the RFC 8032 seed), mode 0600
    box.key    X25519 private key, 32 raw bytes (RFC 7748 scalar), mode 0600
    sign.pub   Ed25519 public key, 32 raw bytes
    box.pub    X25519 public key, 32 raw bytes

Raw bytes rather than PEM: every Ed25519/X25519 library (Kotlin, Swift CryptoKit, WebCrypto,
libsodium) imports exactly these 32 bytes, and a file that is not 32 bytes long is rejected.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from schema.errors import SchemaError

__all__ = [
    "BOX_KEY",
    "BOX_PUB",
    "KEY_SIZE",
    "SIGN_KEY",
    "SIGN_PUB",
    "KeyFileError",
    "KeyPair",
    "b64d",
    "b64e",
    "check_private_key_file_mode",
    "ed25519_public_from_raw",
    "load_public_keys",
    "x25519_public_from_raw",
]

KEY_SIZE = 32
SIGN_KEY = "sign.key"
BOX_KEY = "box.key"
SIGN_PUB = "sign.pub"
BOX_PUB = "box.pub"

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_PRIVATE_MODE = 0o600
_PUBLIC_MODE = 0o644


class KeyFileError(SchemaError):
    """A key file is missing, malformed, mismatched, or open to group/other."""

    code = "key_file_error"


def b64e(data: bytes) -> str:
    """Base64url without padding (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    """Strict inverse of :func:`b64e`: no padding, no other alphabet, canonical trailing bits."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not unpadded base64url") from None
    if b64e(raw) != text:
        raise ValueError("non-canonical base64url")
    return raw


def _exact(raw: bytes, what: str) -> bytes:
    if len(raw) != KEY_SIZE:
        raise ValueError(f"{what} must be exactly {KEY_SIZE} bytes")
    return bytes(raw)


def ed25519_public_from_raw(raw: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from its 32 raw bytes (ValueError otherwise)."""
    return Ed25519PublicKey.from_public_bytes(_exact(raw, "an Ed25519 public key"))


def x25519_public_from_raw(raw: bytes) -> X25519PublicKey:
    """An X25519 public key from its 32 raw bytes (ValueError otherwise)."""
    return X25519PublicKey.from_public_bytes(_exact(raw, "an X25519 public key"))


def check_private_key_file_mode(path: str | os.PathLike[str]) -> None:
    """Raise :class:`KeyFileError` unless ``path`` is a regular file with no group/other bits."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise KeyFileError(f"cannot stat key file {os.fspath(path)!r}: {exc.strerror}") from None
    _check_mode(st, os.fspath(path))


def _check_mode(st: os.stat_result, name: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"key file {name!r} is not a regular file")
    if st.st_mode & 0o077:
        raise KeyFileError(
            f"private key file {name!r} has mode {stat.S_IMODE(st.st_mode):04o}; it must be 0600"
        )


def _read_exact(path: Path, *, private: bool) -> bytes:
    """Read a 32-byte key file; for private keys check the mode on the open descriptor."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise KeyFileError(f"cannot open key file {str(path)!r}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if private:
            _check_mode(st, str(path))
        elif not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"key file {str(path)!r} is not a regular file")
        raw = os.read(fd, KEY_SIZE + 1)
    finally:
        os.close(fd)
    if len(raw) != KEY_SIZE:
        raise KeyFileError(f"key file {str(path)!r} must hold exactly {KEY_SIZE} raw bytes")
    return raw


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (never overwrite, never follow a symlink) and durably write ``data``."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class KeyPair:
    """One party's keys: Ed25519 to sign, X25519 to receive sealed envelopes."""

    sign_key: Ed25519PrivateKey
    box_key: X25519PrivateKey

    @classmethod
    def generate(cls, rng_bytes: Callable[[int], bytes] | None = None) -> KeyPair:
        """Fresh keys; with ``rng_bytes`` the 32-byte Ed25519 seed then the X25519 scalar are drawn
        from it, so fixed bytes give fixed keys (test vectors)."""
        if rng_bytes is None:
            return cls(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())
        return cls.from_private_bytes(rng_bytes(KEY_SIZE), rng_bytes(KEY_SIZE))

    @classmethod
    def from_private_bytes(cls, sign_raw: bytes, box_raw: bytes) -> KeyPair:
        """Keys from the two 32-byte private encodings (ValueError otherwise)."""
        return cls(
            Ed25519PrivateKey.from_private_bytes(_exact(sign_raw, "an Ed25519 private key")),
            X25519PrivateKey.from_private_bytes(_exact(box_raw, "an X25519 private key")),
        )

    @property
    def sign_public(self) -> Ed25519PublicKey:
        """The Ed25519 verifying key."""
        return self.sign_key.public_key()

    @property
    def box_public(self) -> X25519PublicKey:
        """The X25519 key that envelopes are sealed to."""
        return self.box_key.public_key()

    def private_bytes(self) -> tuple[bytes, bytes]:
        """(Ed25519 seed, X25519 scalar), 32 raw bytes each."""
        return (
            self.sign_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
            self.box_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        )

    def public_bytes(self) -> tuple[bytes, bytes]:
        """(Ed25519 public, X25519 public), 32 raw bytes each."""
        return (
            self.sign_public.public_bytes(Encoding.Raw, PublicFormat.Raw),
            self.box_public.public_bytes(Encoding.Raw, PublicFormat.Raw),
        )

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write the four key files into ``directory`` (created 0700 if missing); never overwrites."""
        root = Path(directory)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        names = (SIGN_KEY, BOX_KEY, SIGN_PUB, BOX_PUB)
        existing = [name for name in names if (root / name).exists() or (root / name).is_symlink()]
        if existing:
            raise KeyFileError(f"refusing to overwrite key files in {str(root)!r}: {', '.join(existing)}")
        sign_raw, box_raw = self.private_bytes()
        sign_pub, box_pub = self.public_bytes()
        plan = (
            (SIGN_KEY, sign_raw, _PRIVATE_MODE),
            (BOX_KEY, box_raw, _PRIVATE_MODE),
            (SIGN_PUB, sign_pub, _PUBLIC_MODE),
            (BOX_PUB, box_pub, _PUBLIC_MODE),
        )
        written: list[Path] = []
        try:
            for name, data, mode in plan:
                _write_new(root / name, data, mode)
                written.append(root / name)
        except FileExistsError:
            self._remove(written)
            raise KeyFileError(f"key files appeared concurrently in {str(root)!r}") from None
        except BaseException:
            self._remove(written)
            raise
        _fsync_dir(root)

    @staticmethod
    def _remove(paths: list[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> KeyPair:
        """Read ``sign.key`` and ``box.key`` (mode-checked); ``*.pub`` files, if present, must match."""
        root = Path(directory)
        try:
            pair = cls.from_private_bytes(
                _read_exact(root / SIGN_KEY, private=True), _read_exact(root / BOX_KEY, private=True)
            )
        except ValueError:
            raise KeyFileError(f"invalid private key in {str(root)!r}") from None
        for name, expected in zip((SIGN_PUB, BOX_PUB), pair.public_bytes(), strict=True):
            path = root / name
            if (path.exists() or path.is_symlink()) and _read_exact(path, private=False) != expected:
                raise KeyFileError(f"{str(path)!r} does not match the private key")
        return pair


def load_public_keys(directory: str | os.PathLike[str]) -> tuple[Ed25519PublicKey, X25519PublicKey]:
    """The (Ed25519, X25519) public keys from ``sign.pub`` and ``box.pub`` of a key directory."""
    root = Path(directory)
    try:
        return (
            ed25519_public_from_raw(_read_exact(root / SIGN_PUB, private=False)),
            x25519_public_from_raw(_read_exact(root / BOX_PUB, private=False)),
        )
    except ValueError:
        raise KeyFileError(f"invalid public key in {str(root)!r}") from None
