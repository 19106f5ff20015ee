"""``laogan audit serve`` for real: uvicorn on 127.0.0.1 at a free port, polled until ready, over HTTP."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from server.process import stop as stop_process
from server.process import wait_ready
from tests.conftest import REPO, free_port
from tests.server.audit.conftest import bearer, file_digest
from tests.server.audit.fixture import Fixture
from tests.server.audit.walk import all_paths, leaks

SERVE = "from server.commands.audit import audit; audit(prog_name='laogan audit')"


@dataclass(frozen=True)
class LiveAudit:
    url: str
    process: subprocess.Popen[bytes]
    work: Path
    log: Path


def start(fx: Fixture, work: Path, *, deadline_s: float = 30.0) -> LiveAudit:
    port = free_port()
    out = (work.parent / "audit-serve.log").open("ab")
    env = {**os.environ, "LAOGAN_DATA_DIR": str(fx.settings.data_dir), "LAOGAN_DB": str(fx.db),
           "LAOGAN_KEYS_DIR": str(fx.settings.keys_dir)}
    proc = subprocess.Popen([sys.executable, "-c", SERVE, "serve", "--port", str(port), "--work-dir", str(work)],
                            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, path="/-/login", deadline_s=deadline_s)
    except RuntimeError:
        proc.kill()
        raise
    return LiveAudit(url, proc, work, work / "audit_log.db")


def stop(live: LiveAudit) -> None:
    stop_process(live.process)


@pytest.fixture
def live(fx: Fixture, tmp_path: Path) -> Iterator[LiveAudit]:
    server = start(fx, tmp_path / "audit")
    try:
        yield server
    finally:
        stop(server)


def test_over_http(live: LiveAudit, fx: Fixture) -> None:
    before = file_digest(fx.db)
    paths = all_paths()
    with httpx.Client(base_url=live.url, timeout=30.0) as client:
        for path in [*paths[::7], "/", "/-/metadata.json", "/masked/retirees_masked.csv", "/central.db"]:
            r = client.get(path)
            assert r.status_code == 401 and "Authorization: Bearer" in r.text, path
        for path in paths:
            r = client.get(path, headers=bearer(fx.tokens["alice"]))
            assert r.status_code < 500 and leaks(r.text, path) == [], (path, r.status_code)
        r = client.get("/masked/targeting_gaps.json?_shape=array", headers=bearer(fx.tokens["alice"]))
        assert {row["姓名(脱敏)"] for row in r.json()} == {"张**", "陈**", "欧**"}  # 欧: no home care
        r = client.get("/central/retirees.json?_shape=array", headers=bearer(fx.tokens["sam"]))
        assert "王建国" in {row["name"] for row in r.json()}
        r = client.get("/central.json?" + urllib.parse.urlencode({"sql": "delete from retirees"}),
                       headers=bearer(fx.tokens["sam"]))
        assert r.status_code == 400
        assert client.post("/central/retirees", headers=bearer(fx.tokens["sam"])).status_code == 405
        for token in (fx.tokens["old"], fx.tokens["gone"]):
            assert client.get("/masked.json", headers=bearer(token)).status_code == 401
        # the browser way: form, CSRF token, session cookie
        form = client.get("/-/login")
        csrf = re.search(r'name="csrftoken" value="([^"]+)"', form.text)
        assert csrf is not None
        name, secret = fx.tokens["alice"].split(".", 1)
        ok = client.post("/-/login", data={"csrftoken": csrf.group(1), "name": name, "secret": secret, "next": "/"})
        assert ok.status_code == 302
        assert client.get("/masked/retirees_masked.json").status_code == 200
        assert client.get("/central/retirees.json").status_code == 403
    stop(live)
    assert file_digest(fx.db) == before
    conn = sqlite3.connect(live.log)
    counts = dict(conn.execute("SELECT coalesce(actor, '-'), count(*) FROM audit_access_log GROUP BY 1").fetchall())
    conn.close()
    assert counts["alice"] >= len(paths) and counts["sam"] >= 3 and counts["-"] >= len(paths[::7])
