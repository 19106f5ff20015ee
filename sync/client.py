"""``SyncClient``: enrol a tablet, push its outbox, pull the server's changes — over ``httpx``.

* push: each pending outbox row, in sequence order, is sealed once (``KIND_UPLOAD`` to the server's
  X25519 key, signed with the device's Ed25519 key); the sealed bytes are saved in the outbox *before*
  the first send, so every retry — in this run or after a restart — sends exactly the same bytes.
* pull: only with an empty outbox; ``GET /v1/changes?after=N`` signed with ``Laogan-Sig``; the body is
  a ``KIND_PULL`` envelope signed by the server and sealed to this device; it is applied together with
  its cursor; repeated while the server answers ``X-Laogan-More: 1``.
* retries: transport errors, 5xx and 429 (honouring ``Retry-After``) with capped exponential backoff
  and full jitter (:mod:`sync.retry`).  ``sleep``, ``now`` and ``rng`` are injected.

Everything needed to resume lives in the tablet database, so a killed sync simply runs again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

import httpx
import msgspec

from schema.auth import sign_request
from schema.envelope import KIND_PULL, KIND_UPLOAD, Opened, seal, verify_and_open
from schema.errors import EnvelopeError
from schema.keys import KeyPair, b64d, b64e
from schema.wire import (
    ENVELOPE_MEDIA_TYPE,
    PROTOCOL_VERSION,
    PULL_SCHEMA_PARAM,
    EnrollRequest,
    EnrollResponse,
    Receipt,
)
from sync.clock import Clock, parse_iso, unix
from sync.errors import (
    AlreadyEnrolled,
    PendingChanges,
    ProtocolError,
    SequenceGap,
    ServerRefused,
    ServerUnavailable,
)
from sync.retry import Backoff, parse_retry_after, retryable
from sync.state import (
    CURSOR,
    CURSOR_MARK,
    DEVICE_ID,
    SERVER_BOX_PUB,
    SERVER_SIGN_PUB,
    SERVER_URL,
    UNIT_CODE,
    UNIT_ID,
    Enrolment,
    OutboxEntry,
)
from sync.store import TabletStore

T = TypeVar("T")

MORE_HEADER = "X-Laogan-More"
NEXT_SEQ_HEADER = "X-Laogan-Next-Seq"
"""The upload sequence number the server expects next from this device (sent with every pull)."""
MARK_HEADER = "X-Laogan-Mark"
"""The server's mark of the pull's cursor (see :data:`sync.state.CURSOR_MARK`)."""
MAX_PULL_ROUNDS = 1000
"""Upper bound on pull round trips in one :meth:`SyncClient.pull` (batches plus push-first restarts)."""


@dataclass(frozen=True)
class PullSummary:
    """What one :meth:`SyncClient.pull` did (``pushed``: receipts of uploads it had to make first)."""

    batches: int
    changes: int
    cursor: int
    pushed: tuple[Receipt, ...] = ()


@dataclass(frozen=True)
class SyncSummary:
    """What one :meth:`SyncClient.sync` did."""

    uploaded: int
    receipts: tuple[Receipt, ...]
    pulled_changes: int
    pull_batches: int
    cursor: int


class SyncClient:
    """Talks to one laogan server on behalf of one tablet store (see the module docstring)."""

    def __init__(
        self,
        store: TabletStore,
        http: httpx.Client,
        *,
        keys: KeyPair,
        now: Clock,
        sleep: Callable[[float], None],
        rng: random.Random,
        max_attempts: int = 8,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
    ) -> None:
        self._store = store
        self._http = http
        self._keys = keys
        self._now = now
        self._sleep = sleep
        self._rng = rng
        self._backoff = Backoff(max_attempts, base_delay, max_delay)

    # -- enrolment -----------------------------------------------------------------------------

    def enroll(self, server_url: str, code: str, label: str = "") -> Enrolment:
        """Redeem a one-time enrolment code; store the device id, unit, server keys and cursor."""
        if self._store.state()[DEVICE_ID]:
            raise AlreadyEnrolled("此平板目录已登记 (this tablet directory is already enrolled)")
        base = server_url.rstrip("/")
        sign_pub, box_pub = self._keys.public_bytes()
        body = msgspec.json.encode(EnrollRequest(code=code, sign_pub=b64e(sign_pub), box_pub=b64e(box_pub),
                                                 label=label))
        resp = self._request(
            lambda: self._http.build_request(
                "POST", f"{base}/v1/enroll", content=body, headers={"content-type": "application/json"}
            ),
            idempotent=True,  # the server answers the same keys with the same device while the code is valid
        )
        if resp.status_code not in (200, 201):
            self._raise_for(resp)
        answer = self._decode(resp, EnrollResponse, "enrolment response")
        if answer.protocol_version != PROTOCOL_VERSION:
            raise ProtocolError(f"server speaks protocol {answer.protocol_version}, tablet {PROTOCOL_VERSION}")
        try:
            for key in (answer.server_sign_pub, answer.server_box_pub):
                if len(b64d(key)) != 32:
                    raise ValueError("not 32 bytes")
        except ValueError as exc:
            raise ProtocolError(f"server public key unreadable: {exc}") from None
        self._store.set_state({
            DEVICE_ID: answer.device_id, UNIT_ID: answer.unit_id, UNIT_CODE: answer.unit_code,
            SERVER_URL: base, SERVER_SIGN_PUB: answer.server_sign_pub,
            SERVER_BOX_PUB: answer.server_box_pub, CURSOR: str(answer.cursor),
        })
        return self._store.enrolment()

    # -- push ----------------------------------------------------------------------------------

    def push(self) -> list[Receipt]:
        """Upload every pending outbox row in sequence order; returns the server's receipts.

        A server that asks for an *earlier* sequence number than the one sent (409 ``sequence_gap``) has
        lost uploads it had acknowledged — it was restored from a backup. The outbox still holds their
        sealed bytes, so they are queued again and sent as they were, once; anything else is raised."""
        enrolment = self._store.enrolment()
        receipts: list[Receipt] = []
        requeued = False
        while True:
            try:
                for entry in self._store.pending():
                    receipts.append(self._push_one(enrolment, entry))
                return receipts
            except SequenceGap as gap:
                expected = gap.expected_seq
                if requeued or expected is None or expected >= gap.sent_seq:
                    raise
                if self._store.requeue_sent(expected, gap.sent_seq) != gap.sent_seq - expected:
                    raise
                requeued = True

    def _seal(self, enrolment: Enrolment, entry: OutboxEntry) -> bytes:
        return seal(
            entry.changeset, kind=KIND_UPLOAD, device_id=enrolment.device_id, seq=entry.seq, cursor=0,
            schema_version=self._store.schema_version(), now=unix(parse_iso(entry.captured_at)),
            signing_key=self._keys.sign_key, recipient=enrolment.server_box_key(),
        )

    def _push_one(self, enrolment: Enrolment, entry: OutboxEntry) -> Receipt:
        body = entry.envelope
        if body is None:
            body = self._store.save_envelope(entry.seq, self._seal(enrolment, entry))
        url = f"{enrolment.server_url}/v1/changesets"
        resp = self._request(
            lambda: self._http.build_request(
                "POST", url, content=body, headers={"content-type": ENVELOPE_MEDIA_TYPE}
            ),
            idempotent=True,
        )
        if resp.status_code != 200:
            self._raise_for(resp, sent_seq=entry.seq)
        receipt = self._decode(resp, Receipt, "receipt")
        if receipt.seq != entry.seq or receipt.device_id != enrolment.device_id:
            raise ProtocolError(
                f"receipt is for {receipt.device_id} seq {receipt.seq}, not {enrolment.device_id} seq {entry.seq}"
            )
        self._store.mark_sent(entry.seq, msgspec.json.encode(receipt).decode(), self._now())
        return receipt

    # -- pull ----------------------------------------------------------------------------------

    def pull(self) -> PullSummary:
        """Fetch and apply the server's changes until it has no more (pushing first if needed)."""
        enrolment = self._store.enrolment()
        batches = changes = 0
        pushed: list[Receipt] = []
        for _ in range(MAX_PULL_ROUNDS):
            if self._store.pending():
                pushed.extend(self.push())
            after = self._store.cursor()
            resp = self._get_changes(enrolment, after, self._store.state().get(CURSOR_MARK))
            if self._lost_uploads(resp):
                continue  # queued again: the next round sends them before pulling
            opened = self._open_pull(enrolment, resp, after)
            try:
                changes += self._store.apply_pull(opened.changeset, opened.header.cursor,
                                                  restart=opened.header.seq < after,
                                                  mark=resp.headers.get(MARK_HEADER))
            except PendingChanges:
                continue  # a local edit landed meanwhile: push it, then ask again from the same cursor
            batches += 1
            if resp.headers.get(MORE_HEADER) != "1":
                return PullSummary(batches, changes, self._store.cursor(), tuple(pushed))
            if opened.header.cursor == after:
                raise ProtocolError(f"server says there is more but the cursor did not move from {after}")
        raise ProtocolError(f"pull did not finish within {MAX_PULL_ROUNDS} round trips")

    def _lost_uploads(self, resp: httpx.Response) -> bool:
        """Whether the server, by the upload sequence number it expects next (``X-Laogan-Next-Seq``), has
        lost uploads it had acknowledged (it was restored from a backup) that the outbox still holds: then
        they are queued again, to be sent with their original bytes."""
        try:
            expected = int(resp.headers.get(NEXT_SEQ_HEADER, ""))
        except ValueError:
            return False
        last = self._store.last_seq()
        return 0 < expected <= last and self._store.requeue_sent(expected, last + 1) > 0

    def _get_changes(self, enrolment: Enrolment, after: int, mark: str | None) -> httpx.Response:
        params = {"after": str(after)} if not mark else {"after": str(after), "mark": mark}
        params[PULL_SCHEMA_PARAM] = str(self._store.schema_version())
        url = httpx.URL(f"{enrolment.server_url}/v1/changes", params=params)
        path_qs = url.raw_path.decode("ascii")

        def build() -> httpx.Request:
            auth = sign_request(self._keys.sign_key, device_id=enrolment.device_id, method="GET",
                                path_qs=path_qs, now=unix(self._now()))
            return self._http.build_request("GET", url, headers={"authorization": auth})

        resp = self._request(build, idempotent=True)
        if resp.status_code != 200:
            self._raise_for(resp)
        return resp

    def _open_pull(self, enrolment: Enrolment, resp: httpx.Response, after: int) -> Opened:
        try:
            opened = verify_and_open(
                resp.content, signer_public=enrolment.server_sign_key(), recipient_private=self._keys.box_key,
                expected_kind=KIND_PULL, expected_device_id=enrolment.device_id,
            )
        except EnvelopeError as exc:
            raise ProtocolError(f"pulled envelope refused [{exc.code}]: {exc}") from None
        if opened.header.seq == 0 and after > 0:  # the server starts over (it was restored from a backup)
            return opened
        if opened.header.seq != after or opened.header.cursor < after:
            raise ProtocolError(f"pulled envelope for cursor {opened.header.seq} -> {opened.header.cursor}, "
                                f"asked after {after}")
        return opened

    # -- sync ----------------------------------------------------------------------------------

    def resync(self) -> SyncSummary:
        """Push, then pull everything again from the start (cursor 0): every row the tablet may hold
        arrives with the server's current values (a row the server deleted, as a DELETE). For a tablet
        that missed rows it could not see when they last changed — e.g. the rows the units above share,
        for a tablet enrolled before the server sent them — or whose copy needs repairing. Nothing unsent
        is lost: a pull never applies while the outbox holds anything."""
        self._store.set_state({CURSOR: "0", CURSOR_MARK: None})
        return self.sync()

    def sync(self) -> SyncSummary:
        """Push, then pull."""
        receipts = [*self.push()]
        pulled = self.pull()
        receipts.extend(pulled.pushed)
        return SyncSummary(len(receipts), tuple(receipts), pulled.changes, pulled.batches, pulled.cursor)

    # -- HTTP ----------------------------------------------------------------------------------

    def _request(self, build: Callable[[], httpx.Request], *, idempotent: bool) -> httpx.Response:
        """Send, retrying what is worth retrying; returns the first non-retryable response."""
        last = ""
        attempts = self._backoff.max_attempts
        for attempt in range(1, attempts + 1):
            retry_after: float | None = None
            try:
                resp = self._http.send(build())
            except httpx.TransportError as exc:
                may_have_arrived = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if not idempotent and may_have_arrived:
                    raise ServerUnavailable(f"请求结果未知 (request outcome unknown: {type(exc).__name__}: {exc})") from None
                last = f"{type(exc).__name__}: {exc}"
            else:
                if not retryable(resp.status_code, idempotent=idempotent):
                    return resp
                last = f"HTTP {resp.status_code}"
                retry_after = parse_retry_after(resp.headers.get("retry-after"), self._now())
                resp.close()
            if attempt < attempts:
                self._sleep(self._backoff.delay(attempt, self._rng, retry_after))
        raise ServerUnavailable(f"服务器不可用 (server unavailable after {attempts} attempts; last: {last})")

    @staticmethod
    def _decode(resp: httpx.Response, kind: type[T], what: str) -> T:
        try:
            return msgspec.json.decode(resp.content, type=kind)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise ProtocolError(f"unreadable {what} from server: {exc}") from None

    @staticmethod
    def _raise_for(resp: httpx.Response, *, sent_seq: int | None = None) -> NoReturn:
        code, message, expected = f"http_{resp.status_code}", resp.text[:200], None
        try:
            body = msgspec.json.decode(resp.content)
            error = body["error"]
            code, message = str(error["code"]), str(error["message"])
            expected = error.get("expected_seq")
        except (msgspec.DecodeError, KeyError, TypeError, AttributeError):
            pass
        if not 400 <= resp.status_code < 500:
            raise ProtocolError(f"unexpected HTTP {resp.status_code} [{code}]: {message}")
        if resp.status_code == 409 and code == "sequence_gap" and sent_seq is not None:
            raise SequenceGap(resp.status_code, code, message, sent_seq=sent_seq,
                              expected_seq=expected if isinstance(expected, int) else None)
        raise ServerRefused(resp.status_code, code, message)
