"""Signed request headers: round trip, time window, tampering, strict parsing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.auth import (
    AuthError,
    AuthHeader,
    canonical_request,
    parse_auth_header,
    sign_request,
    verify_request,
)
from schema.keys import KeyPair, b64e

DEVICE_ID = "0b8e4f7a-3c21-4d5e-9f60-718293a4b5c6"
OTHER_ID = "11111111-2222-4333-8444-555555555555"
NOW = 1_767_225_600
PATH = "/pull?after=41&limit=500"
# RFC 8032 §7.1 test 1 secret key: Ed25519 is deterministic, so the header below is fixed.
DEVICE = KeyPair.from_private_bytes(
    bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"), bytes(32)
)
OTHER = KeyPair.from_private_bytes(bytes(range(32)), bytes(32))


def sign(method: str = "GET", path: str = PATH, body: bytes = b"", now: int = NOW) -> str:
    return sign_request(DEVICE.sign_key, device_id=DEVICE_ID, method=method, path_qs=path, body=body, now=now)


def check(header: str, method: str = "GET", path: str = PATH, body: bytes = b"", now: int = NOW) -> None:
    verify_request(parse_auth_header(header), DEVICE.sign_public, method, path, body, now)


def test_canonical_string_is_exactly_as_documented() -> None:
    assert canonical_request("GET", PATH, NOW, DEVICE_ID, b"") == (
        b"GET\n/pull?after=41&limit=500\n1767225600\n0b8e4f7a-3c21-4d5e-9f60-718293a4b5c6\n"
        b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    body = b'{"a":1}'
    assert canonical_request("POST", "/", 0, DEVICE_ID, body).endswith(
        hashlib.sha256(body).hexdigest().encode()
    )


def test_header_format_and_round_trip() -> None:
    header = sign()
    prefix = f"Laogan-Sig device={DEVICE_ID},ts={NOW},sig="
    assert header.startswith(prefix)
    signature = DEVICE.sign_key.sign(canonical_request("GET", PATH, NOW, DEVICE_ID, b""))
    assert header == prefix + b64e(signature)
    assert len(header) - len(prefix) == 86
    parsed = parse_auth_header(header)
    assert parsed == AuthHeader(device_id=DEVICE_ID, timestamp=NOW, signature=signature)
    check(header)


def test_body_is_covered() -> None:
    header = sign(method="POST", body=b"payload")
    check(header, method="POST", body=b"payload")
    with pytest.raises(AuthError):
        check(header, method="POST", body=b"payloaD")
    with pytest.raises(AuthError):
        check(header, method="POST", body=b"")


@pytest.mark.parametrize("delta", [-300, -1, 0, 1, 299, 300])
def test_inside_the_window(delta: int) -> None:
    check(sign(now=NOW), now=NOW + delta)


@pytest.mark.parametrize("delta", [-100_000, -301, 301, 3600])
def test_outside_the_window(delta: int) -> None:
    with pytest.raises(AuthError):
        check(sign(now=NOW), now=NOW + delta)


def test_custom_skew() -> None:
    parsed = parse_auth_header(sign())
    verify_request(parsed, DEVICE.sign_public, "GET", PATH, b"", NOW + 10, max_skew=10)
    with pytest.raises(AuthError):
        verify_request(parsed, DEVICE.sign_public, "GET", PATH, b"", NOW + 11, max_skew=10)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", PATH),
        ("get", PATH),
        ("GET", "/pull?after=42&limit=500"),
        ("GET", "/pull?limit=500&after=41"),
        ("GET", "/pull"),
        ("GET", "/pull?after=41&limit=500&x=1"),
        ("GET", "/Pull?after=41&limit=500"),
        ("GET", "/pull%3Fafter=41&limit=500"),
        ("GET", "/pull?after=41&limit=500\n"),
        ("GET", "pull?after=41&limit=500"),
    ],
)
def test_tampered_request(method: str, path: str) -> None:
    with pytest.raises(AuthError) as info:
        check(sign(), method=method, path=path)
    assert info.value.code == "auth_failed"


def test_tampered_header_fields() -> None:
    header = sign()
    for old, new in ((f"ts={NOW}", f"ts={NOW + 1}"), (f"device={DEVICE_ID}", f"device={OTHER_ID}")):
        with pytest.raises(AuthError):
            check(header.replace(old, new))


def test_wrong_key() -> None:
    parsed = parse_auth_header(sign())
    with pytest.raises(AuthError):
        verify_request(parsed, OTHER.sign_public, "GET", PATH, b"", NOW)


def test_failures_are_indistinguishable() -> None:
    parsed = parse_auth_header(sign())
    errors = []
    for key, path, now in ((OTHER.sign_public, PATH, NOW), (DEVICE.sign_public, "/x", NOW),
                           (DEVICE.sign_public, PATH, NOW + 999), (DEVICE.sign_public, "bad path", NOW)):  # fmt: skip
        with pytest.raises(AuthError) as info:
            verify_request(parsed, key, "GET", path, b"", now)
        errors.append((info.value.code, str(info.value), info.value.__cause__))
    assert len(set(errors)) == 1


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: "",
        lambda h: "Bearer abc",
        lambda h: h.replace("Laogan-Sig", "laogan-sig"),
        lambda h: h.replace("Laogan-Sig ", "Laogan-Sig  "),
        lambda h: h.replace("Laogan-Sig ", "Laogan-Sig\t"),
        lambda h: " " + h,
        lambda h: h + " ",
        lambda h: h + "\n",
        lambda h: h + ",",
        lambda h: h + ",x=1",
        lambda h: h.replace(",", ", "),
        lambda h: h.replace("device=", "device = "),
        lambda h: h.replace(f"device={DEVICE_ID},ts={NOW}", f"ts={NOW},device={DEVICE_ID}"),
        lambda h: h.replace(f",ts={NOW}", ""),
        lambda h: h.replace(f",ts={NOW}", f",ts={NOW},ts={NOW}"),
        lambda h: h.replace(DEVICE_ID, DEVICE_ID.upper()),
        lambda h: h.replace(DEVICE_ID, DEVICE_ID.replace("-", "")),
        lambda h: h.replace(DEVICE_ID, "{" + DEVICE_ID + "}"),
        lambda h: h.replace(f"ts={NOW}", f"ts=0{NOW}"),
        lambda h: h.replace(f"ts={NOW}", f"ts=-{NOW}"),
        lambda h: h.replace(f"ts={NOW}", f"ts={NOW}.0"),
        lambda h: h.replace(f"ts={NOW}", "ts=1234567890123"),
        lambda h: h.replace(f"ts={NOW}", "ts=\u0661\u0662"),
        lambda h: h.replace(f"ts={NOW}", "ts="),
        lambda h: h + "==",
        lambda h: h[:-1],
        lambda h: h + "A",
        lambda h: h[:-1] + "+",
        lambda h: h[:-1] + "/",
        lambda h: h[:-1] + "B",  # 86 chars carry 4 spare bits: only canonical endings are accepted
        lambda h: h.replace("sig=", "signature="),
        lambda h: h + "x" * 300,
    ],
)
def test_malformed_headers(mutate: Callable[[str], str]) -> None:
    header = sign()
    bad = mutate(header)
    assert bad != header
    with pytest.raises(AuthError) as info:
        parse_auth_header(bad)
    assert info.value.code == "auth_failed"


def test_canonical_sig_ending() -> None:
    header = sign()
    assert header[-1] in "AQgw"  # the last character of 64 bytes encodes 2 data bits + 4 zero bits


@pytest.mark.parametrize(
    ("method", "path", "now", "device"),
    [
        ("get", PATH, NOW, DEVICE_ID),
        ("GET\n", PATH, NOW, DEVICE_ID),
        ("", PATH, NOW, DEVICE_ID),
        ("GET", "", NOW, DEVICE_ID),
        ("GET", "/a b", NOW, DEVICE_ID),
        ("GET", "/a\nb", NOW, DEVICE_ID),
        ("GET", "/老干", NOW, DEVICE_ID),
        ("GET", "https://host/a", NOW, DEVICE_ID),
        ("GET", "/" + "a" * 9000, NOW, DEVICE_ID),
        ("GET", PATH, -1, DEVICE_ID),
        ("GET", PATH, 10**12, DEVICE_ID),
        ("GET", PATH, True, DEVICE_ID),
        ("GET", PATH, NOW, DEVICE_ID.upper()),
        ("GET", PATH, NOW, "device-1"),
    ],
)
def test_sign_rejects_ambiguous_inputs(method: str, path: str, now: int, device: str) -> None:
    with pytest.raises(ValueError):
        sign_request(DEVICE.sign_key, device_id=device, method=method, path_qs=path, now=now)


@given(st.text(max_size=300))
def test_fuzz_parse_raises_only_auth_error(value: str) -> None:
    try:
        parsed = parse_auth_header(value)
    except AuthError:
        return
    assert len(parsed.signature) == 64


@given(
    path=st.from_regex(r"/[\x21-\x7e]{0,60}", fullmatch=True),
    body=st.binary(max_size=100),
    now=st.integers(0, 10**12 - 1),
)
def test_round_trip_property(path: str, body: bytes, now: int) -> None:
    header = sign(method="PUT", path=path, body=body, now=now)
    check(header, method="PUT", path=path, body=body, now=now)
    with pytest.raises(AuthError):
        check(header, method="PUT", path=path, body=body + b"\x00", now=now)
