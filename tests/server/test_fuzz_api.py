"""Fuzzing the live HTTP API: schemathesis against the served OpenAPI (``/schema/openapi.json``), for
every operation, in positive and negative generation modes, anonymously and with real credentials
(a supervisor's token, a device's request signature) so the fuzz gets past authentication; and raw
bytes against the envelope endpoint, which OpenAPI cannot describe.

The server under test is the real ``laogan serve`` over HTTP, on a database that holds devices,
uploads and open conflicts of every kind (so resolve, list and show have something to chew on).
The bar: **zero 5xx**, no "internal error" in the server log, and afterwards the ledger verifies.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode

from schema.auth import sign_request
from schema.keys import KeyPair
from schema.wire import ENVELOPE_MEDIA_TYPE
from server import supervisors
from server.db import open_reader
from server.ledger_audit import verify
from server.settings import Settings
from tests.conftest import LiveServer, start_server, stop_server, uid
from tests.server.crash_harness import sized
from tests.server.harness import Harness, retiree_sql


@dataclass
class Target:
    server: LiveServer
    token: str
    device_id: str
    device_keys: KeyPair
    conflicts: int
    envelope: bytes


def _populate(h: Harness) -> tuple[int, bytes]:
    """Open conflicts of every kind, on text and on numeric columns; one spare sealed upload."""
    names = ("id", "unit_id", "retiree_id", "visited_on", "occasion", "kind", "gift_yuan")
    for n in range(12):
        rid, vid, gone = uid(70_000 + n), uid(71_000 + n), uid(72_000 + n)
        for r in (rid, gone):
            sql, args = retiree_sql(h.unit_id, r, n if r == rid else 100 + n)
            h.both_exec(sql, args)
        h.both_exec(f"INSERT INTO visits ({', '.join(names)}) VALUES (?,?,?,?,?,?,?)",
                    (vid, h.unit_id, rid, "2026-10-01", "illness", "material", 100.0))
        h.server_exec("UPDATE retirees SET phone = ?, address = ? WHERE id = ?", (f"1390000{n:04d}", "服务器", rid))
        h.server_exec("UPDATE visits SET gift_yuan = 200.0 WHERE id = ?", (vid,))
        h.server_exec("DELETE FROM retirees WHERE id = ?", (gone,))
        h.upload(h.capture(lambda c, rid=rid, vid=vid, gone=gone: (  # type: ignore[misc]
            c.execute("UPDATE retirees SET phone = ?, address = '平板' WHERE id = ?", ("13700000000", rid)),
            c.execute("UPDATE visits SET gift_yuan = 300.0 WHERE id = ?", (vid,)),
            c.execute("UPDATE retirees SET phone = '13600000000' WHERE id = ?", (gone,)))))
    count = int(str(h.one("SELECT count(*) FROM conflicts")[0]))  # type: ignore[index]
    spare = h.seal(h.capture(lambda c: c.execute("UPDATE retirees SET hobbies = '书法' WHERE id = ?", (uid(70_000),))))
    return count, spare


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """One served database for the whole module (the tests only add uploads and resolutions)."""
    tmp_path = tmp_path_factory.mktemp("fuzz-api")
    h = Harness(tmp_path)
    conflicts, spare = _populate(h)
    token = supervisors.add(h.conn, "fuzzer", now=h.now, rng=random.Random(3))
    settings_ = Settings().with_dir(tmp_path)
    h.server_keys.save(settings_.keys_dir)
    device_id, device_keys = h.device_id, h.device_keys
    h.close()
    server = start_server(settings_, tmp_path / "server.log")
    try:
        yield Target(server, token, device_id, device_keys, conflicts, spare)
    finally:
        stop_server(server)


def _signed(t: Target, case: Case[Any]) -> dict[str, str]:
    """A valid ``Laogan-Sig`` header for exactly the request schemathesis is about to send."""
    kw = case.as_transport_kwargs(base_url=t.server.url)
    path_qs = requests.Request(kw["method"], kw["url"], params=kw.get("params")).prepare().path_url
    try:
        return {"authorization": sign_request(t.device_keys.sign_key, device_id=t.device_id, method=kw["method"],
                                              path_qs=path_qs, now=int(time.time()))}
    except ValueError:  # a path the protocol cannot sign (spaces, non-ASCII): send it unsigned
        return {}


AUTH = st.sampled_from(["generated", "supervisor", "device"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.sampled_from([2**63, -(2**63) - 1, 10**30])
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _check(r: schemathesis.Response | httpx.Response, what: str, failures: list[str], statuses: Counter[int]) -> None:
    statuses[r.status_code] += 1
    if r.status_code >= 500:
        failures.append(f"{r.status_code} {what}: {r.text[:200]}")


def test_resolve_with_a_number_sqlite_cannot_hold_is_a_400(target: Target) -> None:
    auth = {"authorization": f"Bearer {target.token}"}
    with httpx.Client(base_url=target.server.url, headers=auth, timeout=30) as http:
        money = [c["id"] for c in http.get("/v1/conflicts", params={"limit": 1000}).json()["conflicts"]
                 if c["column"] == "gift_yuan"]
        statuses = [http.post(f"/v1/conflicts/{money[i]}/resolve", json={"choice": "value", "value": v}).status_code
                    for i, v in enumerate((2**63, 10**30, -(2**63) - 1))]
    assert statuses == [400, 400, 400]


@pytest.mark.parametrize("per_operation", sized(25, 400))
def test_schemathesis_every_operation_no_5xx(target: Target, per_operation: int,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    schema = schemathesis.openapi.from_url(target.server.url + "/schema/openapi.json")
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    per_op: Counter[str] = Counter()
    operations = [r.ok() for r in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {op.label for op in operations} >= {
        "GET /v1/health", "POST /v1/enroll", "POST /v1/changesets", "GET /v1/changes", "GET /v1/conflicts",
        "GET /v1/conflicts/{conflict_id}", "POST /v1/conflicts/{conflict_id}/resolve"}
    log_start = target.server.log.stat().st_size
    with requests.Session() as session:  # one connection pool, as a real client would keep
        for op in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                with contextlib.suppress(Unsatisfiable):  # e.g. no negative case for an operation without inputs
                    _fuzz(target, op, mode, per_operation, Tallies(failures, statuses, per_op, session))
    log = target.server.log.read_bytes()[log_start:].decode(errors="replace")
    with capsys.disabled():
        print(f"\n[fuzz: schemathesis] cases={sum(per_op.values())} per_operation={dict(per_op)} "
              f"statuses={dict(sorted(statuses.items()))} 5xx={len(failures)}", flush=True)
    assert failures == [], "\n".join(failures[:10])
    assert "internal error" not in log
    _ledger_intact(target)


@dataclass
class Tallies:
    failures: list[str]
    statuses: Counter[int]
    per_op: Counter[str]
    session: requests.Session


def _fuzz(target: Target, op: APIOperation[Any, Any, Any, Any], mode: GenerationMode, examples: int, tallies: Tallies) -> None:
    """Run ``examples`` cases of one operation in one generation mode, with each kind of credential."""

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(generation_mode=mode), auth=AUTH, conflict=st.integers(1, target.conflicts),
           choice=st.sampled_from(["tablet", "server", "value", None]), value=JSON_VALUES)
    def run(case: Case[Any], auth: str, conflict: int, choice: str | None, value: Any) -> None:
        headers: dict[str, str] = {}
        if auth == "supervisor":
            headers = {"authorization": f"Bearer {target.token}"}
            if mode is GenerationMode.POSITIVE and case.path_parameters and "conflict_id" in case.path_parameters:
                case.path_parameters["conflict_id"] = conflict  # a real, open conflict
            if choice is not None and isinstance(case.body, dict):
                case.body = {"choice": choice, "value": value}
        elif auth == "device":
            headers = _signed(target, case)
        r = case.call(base_url=target.server.url, session=tallies.session, headers=headers, timeout=30)
        tallies.per_op[op.label] += 1
        _check(r, f"{op.label} [{mode.value}, {auth}] {case.as_curl_command(headers=headers)}", tallies.failures,
               tallies.statuses)

    run()


def _ledger_intact(t: Target) -> None:
    conn = open_reader(t.server.settings.db_path)
    try:
        assert verify(conn, KeyPair.load(t.server.settings.keys_dir).sign_public).ok
    finally:
        conn.close()


@pytest.mark.parametrize("cases", sized(200, 3000))
def test_raw_bytes_at_the_envelope_endpoint_no_5xx(target: Target, cases: int,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Random bytes, mutations of a real envelope, truncations and odd media types: 4xx, never applied."""
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    good = target.envelope
    conn = open_reader(target.server.settings.db_path)
    (uploads_before,) = conn.execute("SELECT count(*) FROM uploads WHERE status != 'rejected'").fetchone()  # type: ignore[misc]
    conn.close()
    body = st.one_of(
        st.binary(max_size=600),
        st.builds(lambda edits: _mutate(good, edits),
                  st.lists(st.tuples(st.integers(0, len(good) - 1), st.integers(1, 255)), min_size=1, max_size=6)),
        st.integers(0, len(good) - 1).map(lambda n: good[:n]),
        st.binary(min_size=1, max_size=64).map(lambda junk: good + junk),
        st.binary(max_size=120).map(lambda tail: b"LGAN\x01\x01" + tail),
    )
    with httpx.Client(base_url=target.server.url, timeout=30) as http:

        @settings(max_examples=cases, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(data=body, media=st.sampled_from([ENVELOPE_MEDIA_TYPE, "application/json", "text/plain", ""]))
        def run(data: bytes, media: str) -> None:
            r = http.post("/v1/changesets", content=data, headers={"content-type": media} if media else {})
            _check(r, f"POST /v1/changesets {data[:40]!r}…", failures, statuses)
            assert 400 <= r.status_code < 500 or (r.status_code == 200 and data == good), (r.status_code, r.text)

        run()
    conn = open_reader(target.server.settings.db_path)
    (uploads_after,) = conn.execute("SELECT count(*) FROM uploads WHERE status != 'rejected'").fetchone()  # type: ignore[misc]
    conn.close()
    with capsys.disabled():
        print(f"\n[fuzz: raw envelope bytes over HTTP] cases={sum(statuses.values())} "
              f"statuses={dict(sorted(statuses.items()))} 5xx={len(failures)}", flush=True)
    assert failures == []
    assert uploads_after - uploads_before <= 1  # only the untouched envelope could have been accepted
    _ledger_intact(target)


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for pos, xor in edits:
        out[pos] ^= xor
    return bytes(out)
