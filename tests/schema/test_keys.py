"""Key pairs, raw encodings, key files and their modes, base64url."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema import keys
from schema.keys import (
    BOX_KEY,
    BOX_PUB,
    SIGN_KEY,
    SIGN_PUB,
    KeyFileError,
    KeyPair,
    b64d,
    b64e,
    check_private_key_file_mode,
    ed25519_public_from_raw,
    load_public_keys,
    x25519_public_from_raw,
)

# RFC 8032 §7.1 test 1 and RFC 7748 §6.1 (Alice): known answers for the raw derivations.
ED_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
ED_PUB = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
X_PRIV = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
X_PUB = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")


def feed(*chunks: bytes) -> tuple[Callable[[int], bytes], list[int]]:
    """An rng_bytes that hands out ``chunks`` in order, and the sizes it was asked for."""
    asked: list[int] = []
    queue = list(chunks)

    def draw(n: int) -> bytes:
        asked.append(n)
        return queue.pop(0)

    return draw, asked


def test_generate_from_bytes_uses_sign_seed_then_box_scalar() -> None:
    draw, asked = feed(ED_SEED, X_PRIV)
    pair = KeyPair.generate(draw)
    assert asked == [32, 32]
    assert pair.private_bytes() == (ED_SEED, X_PRIV)
    assert pair.public_bytes() == (ED_PUB, X_PUB)


def test_generate_is_deterministic_only_when_given_bytes() -> None:
    a = KeyPair.from_private_bytes(ED_SEED, X_PRIV)
    assert a.public_bytes() == KeyPair.from_private_bytes(ED_SEED, X_PRIV).public_bytes()
    r1, r2 = KeyPair.generate(), KeyPair.generate()
    assert r1.public_bytes() != r2.public_bytes()
    assert r1.public_bytes()[0] != r1.public_bytes()[1]


def test_signature_works_with_derived_keys() -> None:
    pair = KeyPair.from_private_bytes(ED_SEED, X_PRIV)
    # RFC 8032 test 1: the signature of the empty message.
    assert pair.sign_key.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    pair.sign_public.verify(pair.sign_key.sign(b"m"), b"m")


@pytest.mark.parametrize("sizes", [(31, 32), (32, 33), (0, 32)])
def test_wrong_sized_private_bytes(sizes: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        KeyPair.from_private_bytes(bytes(sizes[0]), bytes(sizes[1]))


def test_public_from_raw() -> None:
    assert ed25519_public_from_raw(ED_PUB).public_bytes_raw() == ED_PUB
    assert x25519_public_from_raw(X_PUB).public_bytes_raw() == X_PUB
    for bad in (b"", ED_PUB[:31], ED_PUB + b"\x00"):
        with pytest.raises(ValueError):
            ed25519_public_from_raw(bad)
        with pytest.raises(ValueError):
            x25519_public_from_raw(bad)


def test_save_and_load(tmp_path: Path) -> None:
    pair = KeyPair.from_private_bytes(ED_SEED, X_PRIV)
    target = tmp_path / "keys" / "device"
    pair.save(target)
    assert stat.S_IMODE(target.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE((target / SIGN_KEY).stat().st_mode) == 0o600
    assert stat.S_IMODE((target / BOX_KEY).stat().st_mode) == 0o600
    assert (target / SIGN_KEY).read_bytes() == ED_SEED
    assert (target / BOX_KEY).read_bytes() == X_PRIV
    assert (target / SIGN_PUB).read_bytes() == ED_PUB
    assert (target / BOX_PUB).read_bytes() == X_PUB
    loaded = KeyPair.load(target)
    assert loaded.private_bytes() == (ED_SEED, X_PRIV)
    ed, x = load_public_keys(target)
    assert (ed.public_bytes_raw(), x.public_bytes_raw()) == (ED_PUB, X_PUB)
    check_private_key_file_mode(target / SIGN_KEY)


def test_save_never_overwrites(tmp_path: Path) -> None:
    KeyPair.generate().save(tmp_path)
    before = (tmp_path / SIGN_KEY).read_bytes()
    with pytest.raises(KeyFileError):
        KeyPair.generate().save(tmp_path)
    assert (tmp_path / SIGN_KEY).read_bytes() == before


def test_files_are_created_exclusively(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        keys._write_new(path, bytes(32), 0o600)
    assert path.read_bytes() == b"old"


def test_save_refuses_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / BOX_KEY).symlink_to(victim)
    with pytest.raises(KeyFileError):
        KeyPair.generate().save(keys)
    assert victim.read_bytes() == b"keep"
    assert not (keys / SIGN_KEY).exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o601, 0o610])
def test_group_or_other_bits_are_refused(tmp_path: Path, mode: int) -> None:
    KeyPair.generate().save(tmp_path)
    os.chmod(tmp_path / BOX_KEY, mode)
    with pytest.raises(KeyFileError, match="must be 0600"):
        check_private_key_file_mode(tmp_path / BOX_KEY)
    with pytest.raises(KeyFileError):
        KeyPair.load(tmp_path)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_modes_pass(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "k"
    path.write_bytes(bytes(32))
    os.chmod(path, mode)
    check_private_key_file_mode(path)


def test_mode_check_on_missing_or_non_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError):
        check_private_key_file_mode(tmp_path / "absent")
    os.chmod(tmp_path, 0o700)
    with pytest.raises(KeyFileError, match="regular file"):
        check_private_key_file_mode(tmp_path)


@pytest.mark.parametrize("content", [b"", bytes(31), bytes(33), b"-----BEGIN PRIVATE KEY-----\n"])
def test_load_rejects_wrong_length(tmp_path: Path, content: bytes) -> None:
    KeyPair.generate().save(tmp_path)
    (tmp_path / SIGN_KEY).write_bytes(content)
    with pytest.raises(KeyFileError, match="32 raw bytes"):
        KeyPair.load(tmp_path)


def test_load_rejects_symlinked_private_key(tmp_path: Path) -> None:
    pair = KeyPair.generate()
    pair.save(tmp_path / "real")
    link = tmp_path / "linked"
    link.mkdir(mode=0o700)
    for name in (SIGN_KEY, BOX_KEY):
        (link / name).symlink_to(tmp_path / "real" / name)
    with pytest.raises(KeyFileError):
        KeyPair.load(link)


def test_load_detects_mismatched_public_file(tmp_path: Path) -> None:
    KeyPair.generate().save(tmp_path)
    other = KeyPair.generate().public_bytes()[1]
    (tmp_path / BOX_PUB).chmod(0o644)
    (tmp_path / BOX_PUB).write_bytes(other)
    with pytest.raises(KeyFileError, match="does not match"):
        KeyPair.load(tmp_path)


def test_load_without_public_files(tmp_path: Path) -> None:
    pair = KeyPair.generate()
    pair.save(tmp_path)
    (tmp_path / SIGN_PUB).unlink()
    (tmp_path / BOX_PUB).unlink()
    assert KeyPair.load(tmp_path).public_bytes() == pair.public_bytes()
    with pytest.raises(KeyFileError):
        load_public_keys(tmp_path)


def test_missing_private_key(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot open"):
        KeyPair.load(tmp_path)


@pytest.mark.parametrize(
    ("raw", "text"),
    [(b"", ""), (b"f", "Zg"), (b"fo", "Zm8"), (b"foo", "Zm9v"), (b"foob", "Zm9vYg"), (b"\xfb\xff", "-_8")],
)
def test_b64_known_answers(raw: bytes, text: str) -> None:
    assert b64e(raw) == text
    assert b64d(text) == raw


@pytest.mark.parametrize(
    "text",
    ["Zg==", "Zg=", "Zm9v\n", " Zm9v", "Zm+v", "Zm/v", "Z", "Zm9vY", "Zh", "Zm9", "Zm9\u0661", "Zm8="],
)
def test_b64d_is_strict(text: str) -> None:
    with pytest.raises(ValueError):
        b64d(text)


@given(st.binary(max_size=200))
def test_b64_round_trip(raw: bytes) -> None:
    text = b64e(raw)
    assert "=" not in text and b64d(text) == raw


@given(st.text(max_size=40))
def test_b64d_raises_only_value_error(text: str) -> None:
    try:
        raw = b64d(text)
    except ValueError:
        return
    assert b64e(raw) == text
