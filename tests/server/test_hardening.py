"""Hardening checks, each a test: key-file modes, what a tablet sends, how secrets are stored,
expired and revoked credentials, body limits, and what ends up in logs and command output.

All against the real server over HTTP (or the real ``laogan serve`` process). Requests are watched
through :class:`tests.server.crash_harness.Recorder`, an ``httpx`` transport that forwards to the real
server and only records.
"""

from __future__ import annotations

import base64
import hashlib
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import apsw
import httpx
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schema.auth import sign_request
from schema.envelope import KIND_UPLOAD, peek_device_id, verify_and_open
from schema.keys import KeyPair, b64d, b64e
from schema.wire import ENVELOPE_MEDIA_TYPE
from server import devices, supervisors
from server.app import create_app
from server.db import open_writer
from server.errors import ConfigError, Unauthorized
from server.settings import Settings
from sync.cli import tablet as tablet_cli
from tests.conftest import NOW, REPO, LiveServer, Org, free_port, make_org, start_server, stop_server, uid
from tests.server.crash_harness import HTablet, Sent, enrol_codes, make_htablet, real_now
from tests.server.harness import RETIREE_COLS

ORG = Org()


def _writer(settings: Settings) -> apsw.Connection:
    conn = open_writer(settings.db_path, create=False)
    return conn


# -- the server's key files --------------------------------------------------------------------


@pytest.mark.parametrize(("name", "mode"), [("sign.key", 0o644), ("box.key", 0o640), ("sign.key", 0o604)])
def test_serve_refuses_private_keys_readable_by_others(server_settings: Settings, tmp_path: Path, name: str,
                                                      mode: int) -> None:
    (server_settings.keys_dir / name).chmod(mode)
    with pytest.raises(ConfigError) as e:
        create_app(server_settings)
    assert e.value.code == "server_keys" and "0600" in str(e.value)
    env = {"LAOGAN_DATA_DIR": str(server_settings.data_dir), "LAOGAN_DB": str(server_settings.db_path),
           "LAOGAN_KEYS_DIR": str(server_settings.keys_dir), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "server", "serve", "--port", str(free_port())], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "[server_keys]" in run.stderr and name in run.stderr and "0600" in run.stderr, run.stderr


# -- what a tablet sends -----------------------------------------------------------------------


def _encodings(secret: bytes) -> list[bytes]:
    """The ways a 32-byte key could leak: raw, hex, base64, base64url (padded or not)."""
    b64 = base64.b64encode(secret)
    url = base64.urlsafe_b64encode(secret)
    return [secret, secret.hex().encode(), secret.hex().upper().encode(), b64, b64.rstrip(b"="), url,
            url.rstrip(b"=")]


def test_tablet_private_keys_never_leave_the_tablet(live_server: LiveServer, tmp_path: Path) -> None:
    rng = random.Random(5)
    codes = enrol_codes(live_server.settings, [ORG.town_a_code, ORG.town_a_code], rng)
    tablets = [make_htablet(live_server.url, tmp_path, f"p{i}", code, seed=5, index=i, keep_bodies=True,
                            save_keys=True) for i, code in enumerate(codes)]
    try:
        for _ in range(6):
            for t in tablets:
                t.capture_next()
                t.sync()
        rid = tablets[0].plan.retirees[0]
        for t, phone in zip(tablets, ("13911110000", "13922220000"), strict=True):  # a conflict, too
            with t.store.capture() as c:
                c.execute("UPDATE retirees SET phone = ? WHERE id = ?", (phone, rid))
        for t in tablets + tablets:
            t.sync()
        server_box = KeyPair.load(live_server.settings.keys_dir).box_key
        secrets = [(t.name, s) for t in tablets for s in t.keys.private_bytes()]
        sent: list[Sent] = [s for t in tablets for s in t.recorder.sent]
        assert {s.path for s in sent} >= {"/v1/enroll", "/v1/changesets", "/v1/changes"}
        for s in sent:
            wire = s.body + "\n".join(f"{k}: {v}" for k, v in s.headers).encode() + s.path.encode()
            for name, secret in secrets:
                assert not any(enc in wire for enc in _encodings(secret)), (name, s.method, s.path)
            if s.path == "/v1/changesets":  # and inside the sealed payload, as the server opens it
                opened = verify_and_open(s.body, signer_public=_signer(tablets, s.body), recipient_private=server_box,
                                         expected_kind=KIND_UPLOAD)
                for name, secret in secrets:
                    assert not any(enc in opened.changeset for enc in _encodings(secret)), name
        for t in tablets:
            for key_file in ("sign.key", "box.key"):
                assert (Path(t.store.conn.filename).parent / "keys" / key_file).stat().st_mode & 0o077 == 0
    finally:
        for t in tablets:
            t.close()


def _signer(tablets: list[HTablet], envelope: bytes) -> Ed25519PublicKey:
    device = peek_device_id(envelope)
    for t in tablets:
        if t.device_id == device:
            return t.keys.sign_public
    raise AssertionError(f"an upload from an unknown device {device}")


# -- secrets at rest ---------------------------------------------------------------------------


def _db_bytes(settings: Settings) -> bytes:
    return b"".join(p.read_bytes() for p in settings.db_path.parent.glob(settings.db_path.name + "*"))


def test_supervisor_tokens_and_enrolment_codes_are_stored_only_as_hashes(server_settings: Settings) -> None:
    conn = _writer(server_settings)
    token = supervisors.add(conn, "wang", now=real_now(), rng=random.Random(8))
    code = devices.create_code(conn, ORG.town_a_code, now=real_now(), rng=random.Random(9))
    stored = conn.execute("SELECT secret_hash FROM supervisors WHERE name = 'wang'").fetchone()
    conn.close()
    secret = token.split(".", 1)[1]
    assert stored == (hashlib.sha256(secret.encode()).hexdigest(),)
    raw = _db_bytes(server_settings)
    for needle in (secret, code, code.replace("-", ""), secret.encode().hex()):
        assert needle.encode() not in raw
    assert b64d(secret) not in raw


# -- expired and revoked credentials -----------------------------------------------------------


@pytest.fixture
def watched(live_server: LiveServer, tmp_path: Path) -> Iterator[tuple[LiveServer, HTablet]]:
    (code,) = enrol_codes(live_server.settings, [ORG.town_a_code], random.Random(4))
    t = make_htablet(live_server.url, tmp_path, "cred", code, seed=4, index=0)
    t.capture_next()
    t.sync()
    yield live_server, t
    t.close()


def test_expired_and_revoked_credentials_are_refused(watched: tuple[LiveServer, HTablet]) -> None:
    server, t = watched
    now = real_now()
    conn = _writer(server.settings)
    expired = supervisors.add(conn, "old", now=now - timedelta(days=10), rng=random.Random(1), days=1)
    revoked = supervisors.add(conn, "gone", now=now, rng=random.Random(2))
    supervisors.revoke(conn, "gone", now=now)
    good = supervisors.add(conn, "ok", now=now, rng=random.Random(3))
    stale_code = devices.create_code(conn, ORG.town_a_code, now=now - timedelta(hours=25), rng=random.Random(5))
    conn.close()
    device_id, keys = t.device_id, t.keys
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for token in (expired, revoked, good[:-2] + "xx", "ok", f"nobody.{good.split('.')[1]}"):
            r = http.get("/v1/conflicts", headers={"authorization": f"Bearer {token}"})
            assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized"), token
        assert http.get("/v1/conflicts", headers={"authorization": f"Bearer {good}"}).status_code == 200
        sign_pub, box_pub = (base64.urlsafe_b64encode(k).rstrip(b"=").decode() for k in KeyPair.generate().public_bytes())
        body = {"code": stale_code, "sign_pub": sign_pub, "box_pub": box_pub, "label": "x"}
        r = http.post("/v1/enroll", json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "bad_enrol_code")

        def pull(ts: int, key: Ed25519PrivateKey = keys.sign_key) -> httpx.Response:
            auth = sign_request(key, device_id=device_id, method="GET", path_qs="/v1/changes?after=0", now=ts)
            return http.get("/v1/changes?after=0", headers={"authorization": auth})

        def ts() -> int:  # the server's clock is read at arrival: stay well clear of the 300 s edge
            return int(real_now().timestamp())

        assert pull(ts()).status_code == 200
        for bad in (pull(ts() - 400), pull(ts() + 400), pull(ts(), KeyPair.generate().sign_key)):
            assert (bad.status_code, bad.json()["error"]["code"]) == (401, "bad_signature")
        conn = _writer(server.settings)
        devices.revoke(conn, device_id, now=real_now())
        conn.close()
        r = pull(ts())
        assert (r.status_code, r.json()["error"]["code"]) == (403, "device_revoked")
        t.capture_next()
        (entry,) = t.store.pending()
        envelope = t.client._seal(t.store.enrolment(), entry)
        r = http.post("/v1/changesets", content=envelope, headers={"content-type": ENVELOPE_MEDIA_TYPE})
        assert (r.status_code, r.json()["error"]["code"]) == (403, "device_revoked")


def test_an_enrolment_code_works_once(live_server: LiveServer, tmp_path: Path) -> None:
    (code,) = enrol_codes(live_server.settings, [ORG.town_b_code], random.Random(6))
    make_htablet(live_server.url, tmp_path, "once", code, seed=6, index=0).close()
    from sync.errors import ServerRefused

    with pytest.raises(ServerRefused) as e:
        make_htablet(live_server.url, tmp_path, "twice", code, seed=6, index=1)
    assert (e.value.status, e.value.server_code) == (401, "bad_enrol_code")


def test_an_enrolment_answer_lost_on_the_way_can_be_asked_for_again(live_server: LiveServer) -> None:
    """The tablet that redeemed a code presents it again with the same keys (its answer was lost): it gets
    the same device, and nothing new is made. Other keys still get the one refusal."""
    (code,) = enrol_codes(live_server.settings, [ORG.town_b_code], random.Random(8))
    keys = KeyPair.generate(lambda n: random.Random(8).randbytes(n))
    sp, bp = keys.public_bytes()
    body = {"code": code, "sign_pub": b64e(sp), "box_pub": b64e(bp), "label": "娜姑镇-1"}
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        first = http.post("/v1/enroll", json=body)
        again = http.post("/v1/enroll", json=body)
        other_sp, other_bp = KeyPair.generate(lambda n: random.Random(9).randbytes(n)).public_bytes()
        other = http.post("/v1/enroll", json={**body, "sign_pub": b64e(other_sp), "box_pub": b64e(other_bp)})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert (other.status_code, other.json()["error"]["code"]) == (401, "bad_enrol_code")
    conn = apsw.Connection(str(live_server.settings.db_path), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        made = conn.execute("SELECT count(*) FROM devices WHERE sign_pub = ?", (b64e(sp),)).fetchone()[0]
        entries = conn.execute("SELECT count(*) FROM ledger WHERE kind = 'device' AND device_id = ?",
                               (first.json()["device_id"],)).fetchone()[0]
    finally:
        conn.close()
    assert (made, entries) == (1, 1)


def test_an_enrolment_is_not_repeated_once_expired_or_revoked(tmp_path: Path) -> None:
    conn = open_writer(tmp_path / "central.db")
    make_org(conn)
    rng = random.Random(10)
    keys = KeyPair.generate(lambda n: rng.randbytes(n))
    sp, bp = (b64e(k) for k in keys.public_bytes())
    code = devices.create_code(conn, ORG.town_b_code, now=NOW, rng=rng, hours=24)
    first = devices.enroll(conn, code=code, sign_pub=sp, box_pub=bp, label="", now=NOW, rng=rng)
    assert devices.enroll(conn, code=code, sign_pub=sp, box_pub=bp, label="", now=NOW + timedelta(hours=23),
                          rng=rng).device.id == first.device.id
    with pytest.raises(Unauthorized):  # the code's 24 hours are over
        devices.enroll(conn, code=code, sign_pub=sp, box_pub=bp, label="", now=NOW + timedelta(hours=24), rng=rng)
    devices.revoke(conn, first.device.id, now=NOW + timedelta(hours=1))
    with pytest.raises(Unauthorized):  # a revoked device is not handed back
        devices.enroll(conn, code=code, sign_pub=sp, box_pub=bp, label="", now=NOW + timedelta(hours=2), rng=rng)
    assert conn.execute("SELECT count(*) FROM devices").fetchone()[0] == 1
    conn.close()


# -- body size ---------------------------------------------------------------------------------


def test_bodies_over_the_limit_get_413(server_settings: Settings, tmp_path: Path) -> None:
    limit = 4096
    server = start_server(server_settings, tmp_path / "s.log", extra_env={"LAOGAN_MAX_BODY_BYTES": str(limit)})
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for path, media in (("/v1/changesets", ENVELOPE_MEDIA_TYPE), ("/v1/enroll", "application/json"),
                                ("/v1/conflicts/1/resolve", "application/json")):
                r = http.post(path, content=b"x" * (limit + 1), headers={"content-type": media})
                assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large"), path

                def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
                    for _ in range(limit // 512 + 2):
                        yield b"y" * 512

                r = http.post(path, content=chunks(), headers={"content-type": media})
                assert r.status_code == 413, (path, r.status_code)
            at_limit = http.post("/v1/changesets", content=b"z" * limit, headers={"content-type": ENVELOPE_MEDIA_TYPE})
            assert at_limit.status_code == 400  # read in full, then refused as a malformed envelope
    finally:
        stop_server(server)


# -- logs and command output -------------------------------------------------------------------

PERSONAL = {"name": "欧阳秘密", "phone": "13987654321", "id_number": "530326193501012345",
            "address": "金钟镇秘密巷7号", "health_notes": "秘密病症记录", "phone2": "13912345670",
            "phone3": "13955554444"}


def test_no_secret_and_no_personal_value_in_logs_or_output(live_server: LiveServer, tmp_path: Path) -> None:
    """A field day through the tablet CLI — enrol, capture, sync, a conflict, a scope violation, a
    refused edit, junk requests, a supervisor's resolution — then grep the server log and every
    line the tablet commands printed for the roster's personal values and for key material."""
    runner = CliRunner()
    out: list[str] = []

    def tab(*args: str) -> str:
        result = runner.invoke(tablet_cli, list(args), catch_exceptions=False)
        out.append(result.output)
        return result.output

    a, b = tmp_path / "pad-a", tmp_path / "pad-b"
    codes = enrol_codes(live_server.settings, [ORG.town_a_code, ORG.town_a_code], random.Random(12))
    for d, code in zip((a, b), codes, strict=True):
        tab("init", "--dir", str(d), "--server", live_server.url, "--code", code, "--label", "pad")
    rid = uid(12_345)
    cols = (*RETIREE_COLS, "health_notes")
    values = (rid, "?", PERSONAL["name"], "female", "1935-01-01", PERSONAL["id_number"], "lixiu", PERSONAL["phone"],
              PERSONAL["address"], PERSONAL["health_notes"])
    sql = f"INSERT INTO retirees ({', '.join(cols)}) VALUES ({', '.join(_lit(v) for v in values)})"
    tab("sql", "--dir", str(a), sql.replace("'?'", f"'{ORG.town_a}'"))
    tab("sync", "--dir", str(a))
    tab("sync", "--dir", str(b))
    tab("sql", "--dir", str(a), f"UPDATE retirees SET phone = '{PERSONAL['phone2']}' WHERE id = '{rid}'")
    tab("sql", "--dir", str(b), f"UPDATE retirees SET phone = '{PERSONAL['phone3']}' WHERE id = '{rid}'")
    tab("sync", "--dir", str(a))
    tab("sync", "--dir", str(b))  # conflicted
    other = sql.replace("'?'", f"'{ORG.town_b}'").replace(rid, uid(12_346)).replace(PERSONAL["id_number"],
                                                                                   PERSONAL["id_number"][:-1] + "9")
    tab("sql", "--dir", str(a), other)
    tab("sync", "--dir", str(a))  # quarantined: scope violation
    tab("sql", "--dir", str(a), sql.replace("'?'", f"'{ORG.town_a}'"))  # refused locally: duplicate
    tab("status", "--dir", str(a))
    conn = _writer(live_server.settings)
    token = supervisors.add(conn, "li", now=real_now(), rng=random.Random(13))
    conn.close()
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        auth = {"authorization": f"Bearer {token}"}
        (c,) = http.get("/v1/conflicts", headers=auth).json()["conflicts"]
        assert http.post(f"/v1/conflicts/{c['id']}/resolve", headers=auth,
                         json={"choice": "value", "value": PERSONAL["phone"]}).status_code == 200
        for junk in (b"", b"LGAN\x01" + bytes(200), PERSONAL["name"].encode()):
            assert http.post("/v1/changesets", content=junk).status_code in (400, 401)
        assert http.post("/v1/enroll", json={"code": PERSONAL["phone"], "sign_pub": "A" * 43,
                                             "box_pub": "A" * 43}).status_code == 401
    tab("sync", "--dir", str(a))
    tab("sync", "--dir", str(b))
    stop_server(live_server)  # flush and close the log
    log = live_server.log.read_text(errors="replace")
    text = log + "\n".join(out)
    assert "conflicted" in text and "scope_violation" in text  # the flow really happened
    hits = [k for k, v in PERSONAL.items() if v in text]
    keys = [KeyPair.load(d / "keys") for d in (a, b)] + [KeyPair.load(live_server.settings.keys_dir)]
    for kp in keys:
        for secret in kp.private_bytes():
            hits += [f"key {enc[:8]!r}" for enc in _encodings(secret)[1:] if enc.decode() in text]
    hits += ["supervisor secret"] if token.split(".", 1)[1] in text else []
    assert hits == [], hits


def _lit(v: object) -> str:
    return "'" + str(v).replace("'", "''") + "'"


def test_the_central_database_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    """It holds every retiree's personal data; SQLite gives its -wal and -shm files the same mode."""
    import os

    old = os.umask(0o022)
    try:
        conn = open_writer(tmp_path / "central.db")
        make_org(conn)
        modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir() if p.name.startswith("central.db")}
        conn.close()
    finally:
        os.umask(old)
    assert modes == {"central.db": 0o600, "central.db-wal": 0o600, "central.db-shm": 0o600}


def test_admin_commands_refuse_bad_files_with_one_line(server_settings: Settings, tmp_path: Path) -> None:
    from server.cli import main

    runner = CliRunner()
    env = {"LAOGAN_DATA_DIR": str(server_settings.data_dir), "LAOGAN_DB": str(server_settings.db_path),
           "LAOGAN_KEYS_DIR": str(server_settings.keys_dir)}
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"")
    bad_key = tmp_path / "bad.pub"
    bad_key.write_bytes(b"short")
    for args, says in ((["ledger", "rebuild", "--out", str(taken)], "exists"),
                       (["ledger", "verify", "--pub", str(tmp_path / "missing.pub")], "does not exist"),
                       (["ledger", "verify", "--pub", str(bad_key)], "Ed25519"),
                       (["supervisor", "add", "x", "--expires", "0"], "0")):
        result = runner.invoke(main, args, env=env)
        assert result.exit_code != 0 and isinstance(result.exception, SystemExit), (args, result.exception)
        assert says in result.output, (args, result.output)


def test_a_conflict_id_beyond_sqlite_integers_is_a_400(server_settings: Settings) -> None:
    """Found by the stress fuzzer: an id of 29 digits reached SQLite and came back as a 500."""
    from litestar.testing import TestClient

    conn = open_writer(server_settings.db_path)
    token = supervisors.add(conn, "fuzz", now=real_now(), rng=random.Random(21))
    conn.close()
    headers = {"authorization": f"Bearer {token}"}
    with TestClient(app=create_app(server_settings)) as client:
        for method, path, body in (("GET", "/v1/conflicts/16216941001727061593031704576", None),
                                   ("POST", "/v1/conflicts/16216941001727061593031704576/resolve",
                                    {"choice": "server", "value": False}),
                                   ("GET", "/v1/conflicts/0", None), ("GET", "/v1/conflicts/9223372036854775807", None)):
            r = client.request(method, path, json=body, headers=headers)
            assert r.status_code in (400, 404), (path, r.status_code, r.text)
        assert client.get("/v1/conflicts/16216941001727061593031704576", headers=headers).status_code == 400
