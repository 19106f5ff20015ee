"""A scripted stand-in for the server behind ``httpx.MockTransport`` (only the transport is faked).

It does the server's real cryptography with real keys: it opens upload envelopes with
``verify_and_open`` and seals pull envelopes with ``seal``, so what the client sends and accepts is
checked byte for byte.  Faults (connection errors, 5xx, 429) are scripted per path.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import msgspec

from schema import SCHEMA_VERSION
from schema.auth import parse_auth_header, verify_request
from schema.envelope import KIND_PULL, KIND_UPLOAD, Opened, seal, verify_and_open
from schema.keys import KeyPair, b64e
from schema.wire import ENVELOPE_MEDIA_TYPE, EnrollRequest, EnrollResponse, Receipt

DEVICE_ID = "6f1c2a0e-8d4b-4c1a-9e3f-0a1b2c3d4e5f"
UNIT_ID = "00000000-0000-4000-8000-0000000000a1"

Fault = Callable[[httpx.Request], httpx.Response]


def keypair(seed: int) -> KeyPair:
    rng = random.Random(seed)
    return KeyPair.generate(rng.randbytes)


def error(status: int, code: str, message: str = "no", **extra: object) -> Fault:
    body = msgspec.json.encode({"error": {"code": code, "message": message, **extra}})
    return lambda request: httpx.Response(status, content=body, headers={"content-type": "application/json"})


def status(code: int, headers: dict[str, str] | None = None) -> Fault:
    return lambda request: httpx.Response(code, headers=headers or {})


def raises(exc: type[httpx.TransportError]) -> Fault:
    def fault(request: httpx.Request) -> httpx.Response:
        raise exc("injected fault", request=request)
    return fault


@dataclass
class PullBatch:
    changeset: bytes
    cursor: int
    more: bool = False
    signer: KeyPair | None = None
    """Sign with these keys instead of the server's (to forge)."""


@dataclass
class FakeServer:
    device: KeyPair
    now: Callable[[], int]
    keys: KeyPair = field(default_factory=lambda: keypair(4242))
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    batches: list[PullBatch] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    uploads: list[Opened] = field(default_factory=list)
    on_pull: Callable[[], None] | None = None
    next_seq: int = 1

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def enrolment_state(self, url: str = "http://laogan.test") -> dict[str, str | None]:
        sign, box = self.keys.public_bytes()
        return {"device_id": DEVICE_ID, "unit_id": UNIT_ID, "server_url": url,
                "server_sign_pub": b64e(sign), "server_box_pub": b64e(box), "cursor": "0"}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.faults.get(request.url.path)
        if queue:
            return queue.pop(0)(request)
        if request.url.path == "/v1/enroll":
            return self._enroll(request)
        if request.url.path == "/v1/changesets":
            return self._upload(request)
        if request.url.path == "/v1/changes":
            return self._pull(request)
        return httpx.Response(404)

    def _enroll(self, request: httpx.Request) -> httpx.Response:
        req = msgspec.json.decode(request.content, type=EnrollRequest)
        if req.code != "GOOD-CODE":
            return error(401, "bad_enrol_code", "登记码无效")(request)
        sign, box = self.keys.public_bytes()
        answer = EnrollResponse(device_id=DEVICE_ID, unit_id=UNIT_ID, unit_code="T01", scope_unit_ids=[UNIT_ID],
                                server_sign_pub=b64e(sign), server_box_pub=b64e(box), cursor=0,
                                schema_version=SCHEMA_VERSION)
        return httpx.Response(200, content=msgspec.json.encode(answer))

    def _upload(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == ENVELOPE_MEDIA_TYPE
        opened = verify_and_open(request.content, signer_public=self.device.sign_public,
                                 recipient_private=self.keys.box_key, expected_kind=KIND_UPLOAD,
                                 expected_device_id=DEVICE_ID)
        seq = opened.header.seq
        if seq > self.next_seq:
            return error(409, "sequence_gap", "gap", expected_seq=self.next_seq)(request)
        if seq == self.next_seq:
            self.uploads.append(opened)
            self.next_seq += 1
        receipt = Receipt(device_id=DEVICE_ID, seq=seq, status="applied", upload_id=seq, counts={},
                          conflicts=0, cursor=100 + seq)
        return httpx.Response(200, content=msgspec.json.encode(receipt))

    def _pull(self, request: httpx.Request) -> httpx.Response:
        auth = parse_auth_header(request.headers["authorization"])
        verify_request(auth, self.device.sign_public, "GET", request.url.raw_path.decode(), b"", self.now())
        if self.on_pull is not None:
            hook, self.on_pull = self.on_pull, None
            hook()
        after = int(request.url.params["after"])
        batch = self.batches.pop(0) if self.batches else PullBatch(b"", after)
        signer = batch.signer or self.keys
        body = seal(batch.changeset, kind=KIND_PULL, device_id=DEVICE_ID, seq=after, cursor=batch.cursor,
                    schema_version=SCHEMA_VERSION, now=self.now(), signing_key=signer.sign_key,
                    recipient=self.device.box_public)
        headers = {"content-type": ENVELOPE_MEDIA_TYPE}
        if batch.more:
            headers["X-Laogan-More"] = "1"
        return httpx.Response(200, content=body, headers=headers)
