"""Who gets in, who sees what, and that nothing can be written — on the real Datasette, in process."""

from __future__ import annotations

import json
import random
import re
import urllib.parse
from datetime import timedelta
from pathlib import Path

import apsw
import httpx
import pytest

from server.audit import users
from server.audit.app import AuditApp
from server.audit.masking import masked_views
from server.audit.names import SESSION_COOKIE
from server.db import open_writer
from tests.server.audit.conftest import Clock, file_digest, get, make_app, run
from tests.server.audit.fixture import NOW, Fixture, R
from tests.server.audit.walk import all_paths, leaks

# Datasette itself leaves a facet coroutine un-awaited when a request fails half-way (e.g. ?_sort= on a view).
pytestmark = pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")

WRITE_SQL = (
    "DELETE FROM retirees", "UPDATE retirees SET name = 'x'", "INSERT INTO units (id) VALUES ('x')",
    "WITH x AS (SELECT 1) DELETE FROM retirees", "ATTACH DATABASE '/tmp/x.db' AS x", "PRAGMA user_version = 9",
    "DROP TABLE retirees", "VACUUM", "CREATE TABLE x (y)", "select 1; delete from retirees",
    "REPLACE INTO units (id) VALUES ('x')",
)


def test_anonymous_refused_everywhere(app: AuditApp) -> None:
    async def go() -> None:
        for path in all_paths():
            r = await get(app, path)
            assert r.status_code == 401, path
            assert "Authorization: Bearer" in r.text and leaks(r.text) == [], path
            assert r.headers["cache-control"] == "no-store"
        for method in ("post", "put", "delete", "patch"):
            r = await app.datasette.client.request(method.upper(), "/central/retirees", content=b"{}")
            assert r.status_code == 401
        r = await get(app, "/-/metadata.json")
        assert r.json()["login"] == "/-/login?next=%2F-%2Fmetadata.json"
        assert (await get(app, "/-/login")).status_code == 200

    run(go())


def test_auditor_reaches_no_personal_value(app: AuditApp, fx: Fixture) -> None:
    alice = fx.tokens["alice"]

    async def go() -> dict[str, int]:
        seen: dict[str, int] = {}
        for path in all_paths():
            r = await get(app, path, alice)
            assert leaks(r.text, path) == [], (path, leaks(r.text, path))
            assert r.status_code < 500, path
            seen[path] = r.status_code
        return seen

    seen = run(go())
    for path, status in seen.items():
        bare = path.split("?")[0]
        if bare.startswith(("/central", "/access_log", "/_internal")) or bare.endswith(".db"):
            assert status == 403, path
        if "sql=" in path and "/masked/" not in path:
            assert status in (403, 404), path
    for v in masked_views():
        assert seen[f"/masked/{v.name}.json"] == 200
        assert seen[f"/masked/{v.name}.csv"] == 200


def test_auditor_views_show_masked_values(app: AuditApp, fx: Fixture) -> None:
    r = run(get(app, "/masked/retirees_masked.json?_shape=array&_sort=id", fx.tokens["alice"]))
    first = r.json()[0]
    assert (first["id"], first["name_masked"], first["age_band"]) == (R[1], "王**", "85-89")
    for gone in ("name", "birth_date", "id_number", "phone", "address", "health_status", "hospitalised",
                 "disabled", "hobbies", "personality_notes", "health_notes"):
        assert gone not in first
    bands = run(get(app, "/masked/retirees_masked.json?_facet=age_band&_size=0", fx.tokens["alice"]))
    counts = {f["value"]: f["count"] for f in bands.json()["facet_results"]["age_band"]["results"]}
    assert counts == {"80-84": 2, "85-89": 2, "90+": 2, "75-79": 1, "70-74": 1}


def test_name_filter_is_no_oracle(app: AuditApp, fx: Fixture) -> None:
    """Filtering a masked view by a column it does not have never tells a real value from a made-up one.

    (SQLite reads an unknown double-quoted column as a string literal, so the filter compares the guess with
    the column's *name* and matches nothing.)"""
    alice = fx.tokens["alice"]

    def normal(r: httpx.Response, guess: str) -> str:
        body = r.json()
        body.pop("query_ms", None)
        return json.dumps(body, ensure_ascii=False).replace(guess, "?")

    async def go() -> None:
        for col, value in (("name", "王建国"), ("phone", "13900001111"), ("id_number", "530326194003051234"),
                           ("birth_date", "1940-03-05"), ("name__contains", "王"), ("phone__startswith", "139")):
            real = await get(app, f"/masked/retirees_masked.json?{col}=" + urllib.parse.quote(value), alice)
            fake = await get(app, f"/masked/retirees_masked.json?{col}=" + urllib.parse.quote("0" + value), alice)
            assert real.status_code == fake.status_code == 200
            assert real.json()["rows"] == [] and normal(real, value) == normal(fake, "0" + value)

    run(go())


def test_senior_sees_everything(app: AuditApp, fx: Fixture) -> None:
    sam = fx.tokens["sam"]

    async def go() -> None:
        r = await get(app, "/central/retirees.json?_shape=array", sam)
        assert {row["name"] for row in r.json()} >= {"王建国", "陈桂兰"}
        r = await get(app, "/central/retirees/" + R[1] + ".json", sam)
        assert "530326194003051234" in r.text
        r = await get(app, "/central.json?" + urllib.parse.urlencode({"sql": "select phone from retirees order by id"}), sam)
        assert r.json()["rows"][0] == ["13900001111"]
        r = await get(app, "/masked.json?" + urllib.parse.urlencode({"sql": "select name from central.retirees"}), sam)
        assert r.status_code == 200
        r = await get(app, "/central/staff.json?_labels=on&_shape=array", sam)
        assert r.status_code == 200
        r = await get(app, "/central/contacts.json?_labels=on&_shape=array", sam)
        assert any(isinstance(row["staff_id"], dict) and row["staff_id"]["label"] == "王小红" for row in r.json())
        assert (await get(app, "/access_log/audit_access_log.json", sam)).status_code == 200
        assert (await get(app, "/central.db", sam)).status_code == 403  # downloads are off for everyone

    run(go())


def test_nothing_can_be_written(app: AuditApp, fx: Fixture) -> None:
    before = file_digest(fx.db)

    async def go() -> None:
        for token in (fx.tokens["sam"], fx.tokens["alice"]):
            for db in ("central", "masked", "access_log"):
                for sql in WRITE_SQL:
                    for fmt in ("", ".json"):
                        r = await get(app, f"/{db}{fmt}?" + urllib.parse.urlencode({"sql": sql}), token)
                        assert r.status_code in (400, 403), (db, sql, r.status_code)
                        if fmt == ".json":
                            assert r.json()["ok"] is False
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                for path in ("/central/retirees", "/central/retirees/-/insert", f"/central/retirees/{R[1]}",
                             f"/central/retirees/{R[1]}/-/delete", "/central/-/create", "/masked/not_contacted",
                             "/central/not_contacted", "/masked/retirees_masked"):
                    r = await app.datasette.client.request(
                        method, path, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                        content=json.dumps({"row": {"id": "x"}, "rows": [{"id": "x"}]}).encode())
                    assert r.status_code in (400, 403, 404, 405), (method, path, r.status_code)
        for db in ("central", "masked", "access_log"):
            assert "write" not in json.dumps(app.datasette.metadata("queries", database=db) or {})

    run(go())
    assert file_digest(fx.db) == before
    conn = apsw.Connection(str(fx.db))
    assert conn.execute("SELECT count(*) FROM retirees").fetchone() == (8,)
    conn.close()


def test_expired_revoked_and_bad_credentials_refused(app: AuditApp, fx: Fixture, clock: Clock) -> None:
    async def go() -> None:
        for token in (fx.tokens["old"], fx.tokens["gone"], fx.tokens["sam"] + "x", "sam." + "A" * 43, "sam",
                      "", "nobody.secret", fx.tokens["sam"].replace("sam.", "alice.")):
            r = await get(app, "/masked.json", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, token
        r = await get(app, "/masked.json", headers={"Authorization": f"Basic {fx.tokens['sam']}"})
        assert r.status_code == 401
        assert (await get(app, "/central.json", fx.tokens["sam"])).status_code == 200
        clock.at = NOW + timedelta(days=31)  # sam's 30 days are over
        assert (await get(app, "/central.json", fx.tokens["sam"])).status_code == 401
        assert (await get(app, "/masked.json", fx.tokens["alice"])).status_code == 200  # never expires

    run(go())


async def _login(client: httpx.AsyncClient, name: str, secret: str) -> httpx.Response:
    form = await client.get("/-/login?next=/masked")
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)
    assert token is not None
    return await client.post("/-/login", data={"csrftoken": token.group(1), "name": name, "secret": secret,
                                               "next": "/masked"})


def test_browser_login_session_revocation_and_logout(app: AuditApp, fx: Fixture, clock: Clock) -> None:
    name, secret = fx.tokens["sam"].split(".", 1)

    async def go() -> None:
        transport = httpx.ASGITransport(app=app.asgi())
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            bad = await _login(client, name, secret + "x")
            assert bad.status_code == 401 and "不正确" in bad.text
            ok = await _login(client, name, secret)
            assert ok.status_code == 302 and ok.headers["location"] == "/masked"
            assert "httponly" in ok.headers["set-cookie"].lower()
            assert (await client.get("/central/retirees.json")).status_code == 200
            session = client.cookies[SESSION_COOKIE]
            # a pasted full token works too, and a tampered cookie does not
            other = await _login(client, "", fx.tokens["alice"])
            assert other.status_code == 302
            assert (await client.get("/central.json")).status_code == 403  # now alice, an auditor
            client.cookies.set(SESSION_COOKIE, session[:-2] + "xx")
            assert (await client.get("/masked.json")).status_code == 401
            client.cookies.set(SESSION_COOKIE, session)
            assert (await client.get("/central.json")).status_code == 200
            clock.at = NOW + timedelta(hours=9)  # the 8-hour session is over
            assert (await client.get("/central.json")).status_code == 401
            clock.at = NOW
            conn = open_writer(fx.db)
            users.revoke(conn, "sam", now=NOW)
            conn.close()
            assert (await client.get("/central.json")).status_code == 401  # revocation ends the session at once
            out = await client.get("/-/logout")
            assert out.status_code == 302 and out.headers["location"] == "/-/login"
            assert f"{SESSION_COOKIE}=" in out.headers["set-cookie"] and "max-age=0" in out.headers["set-cookie"].lower()

    run(go())


def test_a_reissued_credential_ends_old_sessions(app: AuditApp, fx: Fixture) -> None:
    conn = open_writer(fx.db)
    token = users.add(conn, "carol", "auditor", now=NOW, rng=random.Random(9))
    conn.close()
    cookie = app.plugin.ctx.auth.session_value(run(app.plugin.ctx.auth.check(*token.split(".", 1))))  # type: ignore[arg-type]
    assert run(get(app, "/masked.json", cookies={SESSION_COOKIE: cookie})).status_code == 200
    conn = apsw.Connection(str(fx.db))
    conn.execute("UPDATE audit_users SET secret_hash = ? WHERE name = 'carol'", (users.hash_secret("new"),))
    conn.close()
    assert run(get(app, "/masked.json", cookies={SESSION_COOKIE: cookie})).status_code == 401


def test_access_log_written_and_readable_by_seniors_only(app: AuditApp, fx: Fixture) -> None:
    async def go() -> list[dict[str, object]]:
        await get(app, "/masked/retirees_masked.json?_facet=sex", fx.tokens["alice"])
        await get(app, "/central/retirees.json", fx.tokens["alice"])
        await get(app, "/masked.json")
        assert (await get(app, "/access_log/audit_access_log.json", fx.tokens["alice"])).status_code == 403
        r = await get(app, "/access_log/audit_access_log.json?_shape=array&_sort=id", fx.tokens["sam"])
        assert r.status_code == 200
        again = await get(app, "/access_log/audit_access_log.json?_shape=array&_sort=id", fx.tokens["sam"])
        got: list[dict[str, object]] = again.json()
        return got

    log = run(go())
    assert [(e["actor"], e["role"], e["method"], e["path"], e["query"], e["status"], e["at"]) for e in log[:4]] == [
        ("alice", "auditor", "GET", "/masked/retirees_masked.json", "_facet=sex", 200, "2026-11-20 02:00:00"),
        ("alice", "auditor", "GET", "/central/retirees.json", "", 403, "2026-11-20 02:00:00"),
        (None, None, "GET", "/masked.json", "", 401, "2026-11-20 02:00:00"),
        ("alice", "auditor", "GET", "/access_log/audit_access_log.json", "", 403, "2026-11-20 02:00:00"),
    ]
    # the senior's first read is on the record by the time the second one runs
    assert [(e["actor"], e["role"], e["status"]) for e in log[4:]] == [("sam", "senior", 200)]


def test_failed_logins_are_logged_by_name(app: AuditApp, fx: Fixture) -> None:
    async def go() -> None:
        transport = httpx.ASGITransport(app=app.asgi())
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            await _login(client, "mallory", "guess")

    run(go())
    conn = apsw.Connection(str(app.config.log))
    rows = conn.execute("SELECT actor, method, path, status FROM audit_access_log WHERE method = 'POST'").fetchall()
    conn.close()
    assert rows == [("mallory", "POST", "/-/login", 401)]


def test_no_response_without_a_log_entry(app: AuditApp, fx: Fixture) -> None:
    app.log.close()  # the log can no longer be written
    r = run(get(app, "/masked.json", fx.tokens["alice"]))
    assert r.status_code == 503 and "access log" in r.text
    assert run(get(app, "/masked.json")).status_code == 503


def test_behind_a_reverse_proxy_under_a_sub_path(fx: Fixture, tmp_path: Path, clock: Clock) -> None:
    audit = make_app(fx, tmp_path / "audit", clock, base_url="/audit/")
    try:
        async def go() -> None:
            client = audit.datasette.client  # prefixes paths with the base URL
            r = await client.get("/masked.json")
            assert r.status_code == 401 and r.json()["login"] == "/audit/-/login?next=%2Faudit%2Fmasked.json"
            form = await client.get("/-/login")
            assert form.status_code == 200 and 'action="/audit/-/login"' in form.text
            ok = await client.get("/masked.json", headers={"Authorization": f"Bearer {fx.tokens['alice']}"})
            assert ok.status_code == 200
            assert (await client.get("/central.json", headers={"Authorization": f"Bearer {fx.tokens['alice']}"})
                    ).status_code == 403

        run(go())
    finally:
        audit.close()
