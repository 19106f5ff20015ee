"""End to end: tablets edit offline, sync with the real server over HTTP, and converge."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import apsw
import httpx
import pytest

from schema.keys import KeyPair
from schema.tables import table
from schema.wire import ENVELOPE_MEDIA_TYPE
from server import devices
from server.db import open_reader, open_writer
from server.settings import Settings
from sync.client import SyncClient
from sync.errors import ServerRefused
from sync.store import TabletStore
from tests.conftest import REPO, LiveServer, Org, uid
from tests.server.e2e import Tablet, make_tablet, real_now, server_view, tablet_view
from tests.server.harness import RETIREE_COLS

ORG = Org()


@pytest.fixture
def tablets(live_server: LiveServer, tmp_path: Path) -> Iterator[list[Tablet]]:
    made = [make_tablet(live_server, tmp_path, ORG.town_a_code, "a1", 1),
            make_tablet(live_server, tmp_path, ORG.town_a_code, "a2", 2),
            make_tablet(live_server, tmp_path, ORG.town_b_code, "b1", 3)]
    yield made
    for t in made:
        t.close()


def add_retiree(t: Tablet, n: int, unit_id: str | None = None) -> str:
    rid = uid(5_000_000 + n)
    vals = (rid, unit_id or t.unit_id, f"赵{n}", "female", "1938-03-03", f"5303261938030{n:05d}"[:18], "general",
            "13800000000", "金钟镇")
    with t.store.capture() as c:
        c.execute(f"INSERT INTO retirees ({', '.join(RETIREE_COLS)}) VALUES ({', '.join('?' * len(vals))})", vals)
    return rid


def add_contact(t: Tablet, rid: str, n: int) -> None:
    with t.store.capture() as c:
        c.execute("INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom, reached)"
                  " VALUES (?,?,?,?,?,?,1)", (uid(6_000_000 + n), t.unit_id, rid, "2026-10-01", "phone", "self"))


def test_tablets_edit_sync_and_converge(live_server: LiveServer, tablets: list[Tablet]) -> None:
    a1, a2, b1 = tablets
    for t in tablets:
        t.client.sync()
    assert tablet_view(a1)["units"] and tablet_view(a1)["service_menu"]
    r1 = add_retiree(a1, 1)
    add_contact(a1, r1, 1)
    r2 = add_retiree(a2, 2)
    add_retiree(b1, 3)
    for t in tablets + tablets:
        t.client.sync()
    for t in tablets:
        assert tablet_view(t) == server_view(live_server, t.unit_id), t.name
    name = table("retirees").column_names().index("name")
    names_a2 = {r[name] for r in tablet_view(a2)["retirees"]}
    assert names_a2 == {"赵1", "赵2"}  # a2 pulled a1's retiree; never b1's
    assert {r[name] for r in tablet_view(b1)["retirees"]} == {"赵3"}
    # a roster edit on one tablet reaches the other, with history
    with a2.store.capture() as c:
        c.execute("UPDATE retirees SET marital_status = 'widowed' WHERE id = ?", (r1,))
    a2.client.sync()
    a1.client.sync()
    assert a1.store.conn.execute("SELECT marital_status FROM retirees WHERE id = ?", (r1,)).fetchone() == ("widowed",)
    assert a1.store.conn.execute("SELECT field, new_value FROM roster_history WHERE retiree_id = ?",
                                 (r1,)).fetchall() == [("marital_status", "widowed")]
    assert r2


def test_duplicated_reordered_retried_uploads_same_as_clean(live_server: LiveServer, tablets: list[Tablet]) -> None:
    a1 = tablets[0]
    a1.client.sync()
    rid = add_retiree(a1, 10)
    add_contact(a1, rid, 10)
    env1, env2 = (a1.store.save_envelope(e.seq, a1.client._seal(a1.store.enrolment(), e))
                  for e in a1.store.pending())

    def post(body: bytes) -> httpx.Response:
        return httpx.post(live_server.url + "/v1/changesets", content=body,
                          headers={"content-type": ENVELOPE_MEDIA_TYPE})

    gap = post(env2)
    assert gap.status_code == 409 and gap.json()["error"] == {
        "code": "sequence_gap", "message": gap.json()["error"]["message"], "expected_seq": 1}
    first = post(env1)
    again = post(env1)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    second = post(env2)
    assert second.status_code == 200
    receipts = a1.client.push()  # the client resends its saved bytes: identical receipts
    assert [r.seq for r in receipts] == [1, 2] and receipts[0].upload_id == first.json()["upload_id"]
    a1.client.sync()
    assert tablet_view(a1) == server_view(live_server, a1.unit_id)
    conn = open_reader(live_server.settings.db_path)
    assert conn.execute("SELECT count(*) FROM contacts WHERE retiree_id = ?", (rid,)).fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM uploads WHERE status != 'rejected'").fetchone() == (2,)
    conn.close()


def test_crash_between_commit_and_upload_loses_nothing(live_server: LiveServer, tmp_path: Path) -> None:
    t = make_tablet(live_server, tmp_path, ORG.town_a_code, "c1", 9)
    rid = add_retiree(t, 20)
    path = Path(t.store.conn.filename)
    t.close()  # the tablet dies before it uploads
    again = TabletStore.open(path, now=real_now, rng=random.Random(0))
    client = SyncClient(again, httpx.Client(), keys=KeyPair.load(path.parent / "keys"), now=real_now,
                        sleep=lambda _s: None, rng=random.Random(0))
    summary = client.sync()
    assert summary.uploaded == 1
    conn = open_reader(live_server.settings.db_path)
    assert conn.execute("SELECT name FROM retirees WHERE id = ?", (rid,)).fetchone() == ("赵20",)
    conn.close()
    again.close()


def test_flipped_bits_refused_before_anything_applied(live_server: LiveServer, tablets: list[Tablet]) -> None:
    a1 = tablets[0]
    add_retiree(a1, 30)
    (entry,) = a1.store.pending()
    good = a1.client._seal(a1.store.enrolment(), entry)
    before = open_reader(live_server.settings.db_path)
    base = before.execute("SELECT count(*) FROM ledger").fetchone()
    with httpx.Client(base_url=live_server.url) as http:
        for pos in range(0, len(good), 3):
            bad = bytearray(good)
            bad[pos] ^= 1 << (pos % 8)
            r = http.post("/v1/changesets", content=bytes(bad),
                          headers={"content-type": "application/vnd.laogan.envelope"})
            assert 400 <= r.status_code < 500, (pos, r.status_code, r.text)
            assert r.json()["error"]["code"]
    assert before.execute("SELECT count(*) FROM retirees").fetchone() == (0,)
    assert before.execute("SELECT count(*) FROM ledger").fetchone() == base
    before.close()


def test_revoked_device_gets_403(live_server: LiveServer, tablets: list[Tablet]) -> None:
    a1 = tablets[0]
    conn = open_writer(live_server.settings.db_path, create=False)
    devices.revoke(conn, a1.device_id, now=real_now())
    conn.close()
    add_retiree(a1, 40)
    with pytest.raises(ServerRefused) as e:
        a1.client.push()
    assert (e.value.status, e.value.server_code) == (403, "device_revoked")
    r = open_reader(live_server.settings.db_path)
    assert r.execute("SELECT count(*) FROM retirees").fetchone() == (0,)
    assert r.execute("SELECT reason_code FROM quarantine").fetchone() == ("device_revoked",)
    r.close()


def test_scope_violation_applies_nothing(live_server: LiveServer, tablets: list[Tablet]) -> None:
    a1 = tablets[0]
    a1.client.sync()
    add_retiree(a1, 50, unit_id=ORG.town_b)  # town B is a unit a1's tablet may not write
    (receipt,) = a1.client.push()
    assert receipt.status == "quarantined" and receipt.reason and "scope_violation" in receipt.reason
    r = open_reader(live_server.settings.db_path)
    assert r.execute("SELECT count(*) FROM retirees").fetchone() == (0,)
    r.close()


def test_rows_shared_by_the_units_above_reach_tablets_below_read_only(
        live_server: LiveServer, tablets: list[Tablet]) -> None:
    """The county's venues, community resources and party branches (and the county's own unit row) reach
    the townships' tablets; the county's retirees and another township's venue do not. A tablet may use
    them but not edit them: the capture is refused before anything is written."""
    from server.ledger import ledgered
    from sync.errors import SharedRow

    a1, _, b1 = tablets
    conn = open_writer(live_server.settings.db_path, create=False)
    try:
        with ledgered(conn, kind="import", actor="test", now=real_now()):
            conn.execute("INSERT INTO venues (id, unit_id, name, location) VALUES (?, ?, '县老干部活动中心', '县城')",
                         (uid(7001), ORG.county))
            conn.execute("INSERT INTO community_resources (id, unit_id, name, kind) VALUES (?, ?, '县医院', 'medical')",
                         (uid(7002), ORG.county))
            conn.execute("INSERT INTO party_branches (id, unit_id, name, kind) VALUES (?, ?, '县离退休干部联合支部',"
                         " 'joint')", (uid(7003), ORG.county))
            conn.execute("INSERT INTO venues (id, unit_id, name, location) VALUES (?, ?, '娜姑镇活动室', '娜姑')",
                         (uid(7004), ORG.town_b))
            conn.execute(f"INSERT INTO retirees ({', '.join(RETIREE_COLS)}) VALUES (?,?,?,?,?,?,?,?,?)",
                         (uid(7005), ORG.county, "县里人", "male", "1940-01-01", "530326194001010000", "general",
                          "13800000001", "县城"))
    finally:
        conn.close()
    for t in tablets:
        t.client.sync()
        assert tablet_view(t) == server_view(live_server, t.unit_id), t.name
    held = {(tbl, str(r[0])) for tbl in ("venues", "community_resources", "party_branches", "retirees", "units")
            for r in a1.store.conn.execute(f"SELECT id FROM {tbl}")}
    assert {("venues", uid(7001)), ("community_resources", uid(7002)), ("party_branches", uid(7003)),
            ("units", ORG.county)} <= held
    assert ("venues", uid(7004)) not in held and ("retirees", uid(7005)) not in held
    assert ("venues", uid(7004)) in {("venues", str(r[0])) for r in b1.store.conn.execute("SELECT id FROM venues")}
    # read-only on the tablet: nothing written, nothing queued; its own unit's venue is fine
    pending = len(a1.store.pending())
    with pytest.raises(SharedRow) as e, a1.store.capture() as c:
        c.execute("UPDATE venues SET has_books = 1 WHERE id = ?", (uid(7001),))
    assert (e.value.code, e.value.table, e.value.row_id) == ("shared_row", "venues", uid(7001))
    with pytest.raises(SharedRow), a1.store.capture() as c:
        c.execute("INSERT INTO venues (id, unit_id, name, location) VALUES (?, ?, '县里新阵地', '县城')",
                  (uid(7006), ORG.county))
    assert len(a1.store.pending()) == pending
    assert a1.store.conn.execute("SELECT has_books FROM venues WHERE id = ?", (uid(7001),)).fetchone() == (0,)
    with a1.store.capture() as c:  # a write that changes nothing in the end is no edit: not refused
        c.execute("UPDATE venues SET has_books = has_books WHERE id = ?", (uid(7001),))
        c.execute("SAVEPOINT s")
        c.execute("UPDATE venues SET name = '改' WHERE id = ?", (uid(7001),))
        c.execute("ROLLBACK TO s")
        c.execute("RELEASE s")
    assert len(a1.store.pending()) == pending
    with a1.store.capture() as c:
        c.execute("INSERT INTO venues (id, unit_id, name, location) VALUES (?, ?, '金钟镇活动室', '金钟')",
                  (uid(7007), ORG.town_a))
    (receipt,) = a1.client.push()
    assert receipt.status == "applied"


def test_resync_brings_rows_a_tablet_missed(live_server: LiveServer, tablets: list[Tablet], tmp_path: Path) -> None:
    """A tablet whose cursor passed a shared row before it could see it (enrolled before the server shared
    the rows of the units above) gets it with `laogan tablet resync`; its unsent edits go up first."""
    from click.testing import CliRunner

    from server.ledger import ledgered
    from server.pull import cursor_mark
    from sync.cli import tablet as tablet_cli

    a1 = tablets[0]
    a1.client.sync()
    conn = open_writer(live_server.settings.db_path, create=False)
    try:
        with ledgered(conn, kind="import", actor="test", now=real_now()):
            conn.execute("INSERT INTO venues (id, unit_id, name, location) VALUES (?, ?, '县老干部活动中心', '县城')",
                         (uid(7101), ORG.county))
        top = conn.execute("SELECT max(seq) FROM change_log").fetchone()[0]
        mark = cursor_mark(conn, top)
    finally:
        conn.close()
    a1.store.set_state({"cursor": str(top), "cursor_mark": mark})  # as if the venue had gone by unseen
    a1.client.sync()
    venue = a1.store.conn.execute("SELECT count(*) FROM venues WHERE id = ?", (uid(7101),))
    assert venue.fetchone() == (0,)
    rid = add_retiree(a1, 71)  # unsent when the resync starts
    a1.store.close()
    a1.http.close()
    result = CliRunner().invoke(tablet_cli, ["resync", "--dir", str(tmp_path / "a1")])
    assert result.exit_code == 0, result.output
    assert "重新拉取 pulled again" in result.stdout
    store = TabletStore.open(tmp_path / "a1" / "tablet.db", now=real_now, rng=random.Random(1))
    try:
        assert store.conn.execute("SELECT name FROM venues WHERE id = ?", (uid(7101),)).fetchone() == ("县老干部活动中心",)
        assert store.pending() == [] and store.cursor() >= top
        central = open_reader(live_server.settings.db_path)
        assert central.execute("SELECT count(*) FROM retirees WHERE id = ?", (rid,)).fetchone() == (1,)
        central.close()
        assert tablet_view(Tablet(a1.name, store, a1.client, a1.http, a1.keys, a1.device_id, a1.unit_id)) == \
            server_view(live_server, a1.unit_id)
    finally:
        store.close()


def test_server_never_500s_on_junk(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        for method, path, body in [
            ("POST", "/v1/changesets", b""), ("POST", "/v1/changesets", b"LGAN" + b"\0" * 300),
            ("POST", "/v1/enroll", b"{}"), ("POST", "/v1/enroll", b"not json"),
            ("POST", "/v1/enroll", b'{"code": "x", "sign_pub": "!!", "box_pub": "", "extra": 1}'),
            ("GET", "/v1/changes?after=-1", b""), ("GET", "/v1/changes?after=abc", b""),
            ("GET", "/v1/conflicts", b""), ("POST", "/v1/conflicts/1/resolve", b"{}"),
            ("GET", "/nope", b""), ("DELETE", "/v1/health", b""),
        ]:
            r = http.request(method, path, content=body)
            assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text)
            assert set(r.json()["error"]) >= {"code", "message"}
        big = http.post("/v1/changesets", content=b"x" * (16 * 1024 * 1024 + 1))
        assert big.status_code == 413


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="sqlite3 shell not installed")
def test_sqlite3_shell_changeset_pushed_and_applied(live_server: LiveServer, tablets: list[Tablet],
                                                     tmp_path: Path) -> None:
    a1 = tablets[0]
    a1.client.sync()
    db = Path(a1.store.conn.filename)
    rid = uid(7_000_001)
    out = tmp_path / "shell.changeset"
    script = (
        ".session open main s\n.session s attach retirees\n"
        f"INSERT INTO retirees (id, unit_id, name, sex, birth_date, id_number, category) VALUES "
        f"('{rid}', '{a1.unit_id}', '孙shell', 'male', '1941-02-02', '530326194102021111', 'general');\n"
        f".session s changeset {out}\n.session s close\n"
    )
    res = subprocess.run(["sqlite3", str(db)], input=script.encode(), capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert out.stat().st_size > 0
    a1.store.close()
    push = subprocess.run([sys.executable, "-m", "server", "tablet", "push-changeset", "--dir", str(db.parent),
                           str(out)], capture_output=True, cwd=REPO, timeout=120)
    assert push.returncode == 0, push.stderr
    sync = subprocess.run([sys.executable, "-m", "server", "tablet", "sync", "--dir", str(db.parent)],
                          capture_output=True, cwd=REPO, timeout=120)
    assert sync.returncode == 0, sync.stderr
    r = open_reader(live_server.settings.db_path)
    assert r.execute("SELECT name FROM retirees WHERE id = ?", (rid,)).fetchone() == ("孙shell",)
    r.close()
    a1.store = TabletStore.open(db, now=real_now, rng=random.Random(0))


def test_apsw_version_has_sessions() -> None:
    assert hasattr(apsw, "Session")


def test_serve_publishes_the_report_site(live_server: LiveServer) -> None:
    site = live_server.settings.data_dir / "site"
    with httpx.Client(base_url=live_server.url) as http:
        assert http.get("/reports/index.html").status_code == 404  # nothing built yet: a 404, not a 500
        site.mkdir(parents=True, exist_ok=True)
        (site / "index.html").write_text("<h1>离退休干部服务报告</h1>", encoding="utf-8")
        r = http.get("/reports/")
        assert r.status_code == 200 and "离退休干部服务报告" in r.text


def test_a_server_restored_from_a_backup_gets_back_what_tablets_had_sent(
        server_settings: Settings, tmp_path: Path) -> None:
    """Restored from an older backup, the server has lost uploads it had acknowledged. The tablet still
    holds their sealed bytes: the next sync sends them again (the pull tells it which sequence number
    the server expects) and pulls everything again (its cursor is beyond the restored database's)."""
    from schema.keys import load_public_keys
    from server.backup import backup, restore
    from tests.conftest import free_port, start_server, stop_server

    public, _ = load_public_keys(server_settings.keys_dir)
    port = free_port()
    server = start_server(server_settings, tmp_path / "before.log", port=port)
    try:
        t = make_tablet(server, tmp_path, ORG.town_a_code, "a1", 11)
        kept = add_retiree(t, 81)
        t.client.sync()
        backup(server_settings.db_path, tmp_path / "backup.db", public)
        lost = add_retiree(t, 82)
        add_contact(t, lost, 82)
        t.client.sync()
    finally:
        stop_server(server)
    restore(tmp_path / "backup.db", server_settings.db_path, public, force=True)
    server = start_server(server_settings, tmp_path / "after.log", port=port)  # the URL the tablet knows
    try:
        central = open_reader(server_settings.db_path)
        assert central.execute("SELECT count(*) FROM retirees WHERE id = ?", (lost,)).fetchone() == (0,)
        central.close()
        summary = t.client.sync()
        assert [r.status for r in summary.receipts] == ["applied", "applied"]  # the two lost uploads
        central = open_reader(server_settings.db_path)
        assert {r[0] for r in central.execute("SELECT id FROM retirees")} >= {kept, lost}
        assert central.execute("SELECT count(*) FROM contacts WHERE retiree_id = ?", (lost,)).fetchone() == (1,)
        central.close()
        assert tablet_view(t) == server_view(server, t.unit_id)
        assert t.store.pending() == []
    finally:
        stop_server(server)
        t.close()


def test_after_a_restore_tablets_start_over_even_once_new_work_passed_their_cursor(
        server_settings: Settings, tmp_path: Path) -> None:
    """Found by a review: after the restore other tablets' new work can number changes past an old
    cursor, so "beyond the newest change" no longer shows it is stale. The cursor's mark (its ledger
    entry's hash) does: every tablet starts over and gets every row."""
    from schema.keys import load_public_keys
    from server.backup import backup, restore
    from tests.conftest import free_port, start_server, stop_server

    public, _ = load_public_keys(server_settings.keys_dir)
    port = free_port()
    server = start_server(server_settings, tmp_path / "before.log", port=port)
    made = [make_tablet(server, tmp_path, ORG.town_a_code, f"a{k}", 20 + k) for k in (1, 2, 3)]
    a1, a2, a3 = made
    try:
        for t in made:
            t.client.sync()
        backup(server_settings.db_path, tmp_path / "backup.db", public)
        for n in range(3):
            add_retiree(a1, 100 + n)  # lost by the restore
        a1.client.sync()
        a2.client.sync()  # a2's cursor is now beyond the backup
    finally:
        stop_server(server)
    restore(tmp_path / "backup.db", server_settings.db_path, public, force=True)
    server = start_server(server_settings, tmp_path / "after.log", port=port)
    try:
        new = [add_retiree(a3, 200 + n) for n in range(5)]  # numbered past a2's old cursor
        a3.client.sync()
        for _ in range(2):
            for t in made:
                t.client.sync()
        assert {r[0] for r in a2.store.conn.execute("SELECT id FROM retirees")} >= set(new)
        for t in made:
            assert tablet_view(t) == server_view(server, t.unit_id), t.name
    finally:
        stop_server(server)
        for t in made:
            t.close()
