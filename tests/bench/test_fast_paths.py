"""The performance fixes change nothing: the fast apply paths against the ordinary one, byte for byte.

Two identical central databases (same seed: same keys, device and clock) receive the same sealed
envelopes; one may take a fast path — :func:`server.reconcile._apply_fast` (``bulk``: abort at the
first conflict) or :func:`server.reconcile._apply_direct` (``direct``: plain INSERTs), where a clean
changeset is its own ledger effect and the plan its change_log rows — the other is held to SQLite's
changeset apply with the session capturing the effect and change_log derived from it. After every upload
the receipts and every table of both databases — data, ``change_log``, ``uploads``, ``conflicts``,
``quarantine`` and the ledger with its effects and hashes — must be equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import apsw
import pytest

from schema.wire import Receipt
from server import reconcile
from tests.conftest import uid
from tests.server.harness import Harness, retiree_sql

CONTACT = ("INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom, reached, notes)"
           " VALUES (?, ?, ?, '2026-10-01', 'phone', 'self', 1, ?)")
VISIT = ("INSERT INTO visits (id, unit_id, retiree_id, visited_on, occasion, kind, policy_conveyed, notes)"
         " VALUES (?, ?, ?, '2026-10-02', ?, 'spiritual', 1, '走访')")


def dump(conn: apsw.Connection) -> dict[str, list[tuple[Any, ...]]]:
    names = [str(r[0]) for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: [tuple(r) for r in conn.execute(f'SELECT * FROM "{n}" ORDER BY rowid')] for n in names}


class Twins:
    """Harness ``fast`` may use a fast path (``mode``); ``slow`` never does. Same envelopes to both.

    ``taken`` records every fast attempt: True when it applied, False when it stepped aside (and the
    upload was applied again the ordinary way)."""

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
        self.fast = Harness(tmp / "fast", unit="530326")  # the county: its townships are in scope
        self.slow = Harness(tmp / "slow", unit="530326")
        self.mp = monkeypatch
        self.mode = mode
        self.taken: list[bool] = []
        name = "_apply_fast" if mode == "bulk" else "_apply_direct"
        original = getattr(reconcile, name)

        def recording(*args: Any) -> Any:
            try:
                took = original(*args)
            except reconcile.NotClean:
                self.taken.append(False)
                raise
            self.taken.append(took is not False)
            return took

        monkeypatch.setattr(reconcile, name, recording)
        monkeypatch.setattr(reconcile, "FAST_MIN_ROWS", 1 if mode == "bulk" else 10**9)
        assert self.fast.device_id == self.slow.device_id

    def both_exec(self, sql: str, args: tuple[object, ...] = ()) -> None:
        self.fast.both_exec(sql, args)
        self.slow.server_exec(sql, args, kind="import")

    def server_exec(self, sql: str, args: tuple[object, ...] = ()) -> None:
        self.fast.server_exec(sql, args)
        self.slow.server_exec(sql, args)

    def upload(self, fn: Callable[[apsw.Connection], object] | bytes) -> Receipt:
        cs = fn if isinstance(fn, bytes) else self.fast.capture(fn)
        data = self.fast.seal(cs, captured=self.fast.now)
        got = self.fast.receive(data)
        with self.mp.context() as m:
            m.setattr(reconcile, "FAST_MIN_ROWS", 10**9)
            m.setattr(reconcile, "DIRECT_INSERTS", False)
            want = self.slow.receive(data)
        assert got == want
        assert dump(self.fast.conn) == dump(self.slow.conn)
        return got

    def close(self) -> None:
        self.fast.close()
        self.slow.close()


@pytest.fixture(params=["bulk", "direct"])
def twins(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Twins]:
    t = Twins(tmp_path, monkeypatch, request.param)
    yield t
    t.close()


def _retirees(t: Twins) -> tuple[str, str]:
    a, b = uid(5001), uid(5002)
    for n, (rid, unit) in enumerate(((a, t.fast.org.town_a), (b, t.fast.org.town_b))):
        sql, args = retiree_sql(unit, rid, n)
        t.both_exec(sql, args)
    return a, b


def _contacts(t: Twins, ra: str, rb: str, n: int) -> list[str]:
    ids = [uid(6000 + i) for i in range(n)]

    def work(c: apsw.Connection) -> None:
        for i, cid in enumerate(ids):
            unit, rid = (t.fast.org.town_a, ra) if i % 2 else (t.fast.org.town_b, rb)
            c.execute(CONTACT, (cid, unit, rid, f"第{i}次"))
        for i in range(n // 3):
            c.execute(VISIT, (uid(7000 + i), t.fast.org.town_a, ra, "holiday_birthday"))

    r = t.upload(work)
    assert r.status == "applied"
    return ids


def test_clean_inserts_updates_deletes_and_moves_are_identical(twins: Twins) -> None:
    ra, rb = _retirees(twins)
    ids = _contacts(twins, ra, rb, 30)

    def edit(c: apsw.Connection) -> None:
        for cid in ids[:5]:
            c.execute("UPDATE contacts SET notes = notes || '(复核)' WHERE id = ?", (cid,))
        for cid in ids[5:8]:
            c.execute("DELETE FROM contacts WHERE id = ?", (cid,))
        c.execute("UPDATE contacts SET unit_id = ? WHERE id = ?", (twins.fast.org.town_a, ids[10]))  # b -> a
        c.execute("UPDATE contacts SET unit_id = ?, notes = '搬走' WHERE id = ?", (twins.fast.org.town_b, ids[11]))

    r = twins.upload(edit)
    assert r.status == "applied" and r.counts["contacts"].update == 7 and r.counts["contacts"].delete == 3
    assert twins.taken == ([True, True] if twins.mode == "bulk" else [True])  # direct: inserts only
    moved = twins.fast.conn.execute(
        "SELECT unit_id FROM change_log WHERE tbl = 'contacts' AND row_id = ? ORDER BY seq", (ids[11],)).fetchall()
    assert [m[0] for m in moved] == [twins.fast.org.town_a, twins.fast.org.town_b, twins.fast.org.town_a]


def test_conflicts_and_refusals_fall_back_and_are_identical(twins: Twins) -> None:
    ra, rb = _retirees(twins)
    ids = _contacts(twins, ra, rb, 12)
    twins.server_exec("UPDATE contacts SET notes = '服务器改' WHERE id = ?", (ids[0],))
    twins.server_exec("DELETE FROM contacts WHERE id = ?", (ids[1],))
    r = twins.upload(lambda c: (c.execute("UPDATE contacts SET notes = '平板改' WHERE id = ?", (ids[0],)),
                                c.execute("DELETE FROM contacts WHERE id = ?", (ids[1],)),
                                c.execute(CONTACT, (uid(6100), twins.fast.org.town_a, ra, "新"))))
    assert r.status == "conflicted"
    r = twins.upload(lambda c: c.execute(CONTACT, (uid(6101), twins.fast.org.town_a, uid(999_999), "无此人")))
    assert r.status == "quarantined" and r.reason is not None and r.reason.startswith("foreign_key")
    assert twins.taken == [True, False, False] if twins.mode == "bulk" else [True, False]


def test_tables_with_a_second_unique_key_take_the_ordinary_path(twins: Twins) -> None:
    ra, rb = _retirees(twins)
    r = twins.upload(lambda c: (c.execute("UPDATE retirees SET phone = '13911112222' WHERE id = ?", (ra,)),
                                c.execute(CONTACT, (uid(6200), twins.fast.org.town_b, rb, "改电话"))))
    assert r.status == "applied"
    assert twins.taken == []  # the plan said not fast: _apply_fast was never tried


def test_an_unknown_trigger_keeps_the_session_watching_its_table(twins: Twins) -> None:
    """A trigger may write more than the changeset names, so the changeset is no longer its own
    effect: the fast path still applies it, but the session captures the effect (equal all the same)."""
    ra, rb = _retirees(twins)
    probe = reconcile.plan(twins.fast.capture(lambda c: c.execute(CONTACT, (uid(6300), twins.fast.org.town_a, ra, "x"))),
                           twins.fast.conn, frozenset((twins.fast.org.town_a, twins.fast.org.town_b)))
    assert reconcile.exact_tables(twins.fast.conn, probe) == {"contacts"}
    for h in (twins.fast, twins.slow):
        h.conn.execute("CREATE TEMP TABLE seen (id TEXT);"
                       "CREATE TEMP TRIGGER audit_contacts AFTER INSERT ON main.contacts BEGIN "
                       "INSERT INTO temp.seen VALUES (NEW.id); END;")
    assert reconcile.exact_tables(twins.fast.conn, probe) == frozenset()
    _contacts(twins, ra, rb, 6)  # receipts and every table, ledger effects included, equal the slow path's
    assert twins.taken == [True]
    assert twins.fast.conn.execute("SELECT count(*) FROM temp.seen").fetchone() == (6,)


def test_plan_logs_what_the_effect_logs(twins: Twins) -> None:
    ra, rb = _retirees(twins)
    ids = _contacts(twins, ra, rb, 4)
    cs = twins.fast.capture(lambda c: (c.execute("UPDATE contacts SET unit_id = ? WHERE id = ?",
                                                 (twins.fast.org.town_b, ids[1])),
                                       c.execute("DELETE FROM contacts WHERE id = ?", (ids[2],))))
    p = reconcile.plan(cs, twins.fast.conn, frozenset((twins.fast.org.town_a, twins.fast.org.town_b)))
    assert p.fast and p.tables == {"contacts"}
    assert sorted(p.log) == sorted([("contacts", ids[1], twins.fast.org.town_b),
                                    ("contacts", ids[1], twins.fast.org.town_a),
                                    ("contacts", ids[2], twins.fast.org.town_b)])


def test_a_changeset_in_first_touch_order_is_identical_too(twins: Twins) -> None:
    """The tablet's recorder (sync/recorder.py) orders a table's rows by first touch, not by a session's
    hash: inserts, updates and deletes made in a shuffled order still give both paths the same tables,
    receipts and ledger bytes."""
    import random

    from schema.tables import table, uploadable_tables
    from sync.recorder import Recorder

    ra, rb = _retirees(twins)
    ids = _contacts(twins, ra, rb, 12)
    names = tuple(t.name for t in uploadable_tables())
    tablet = twins.fast.tablet
    recorder = Recorder.for_tables(
        names, lambda n: tuple(str(r[1]) for r in tablet.execute(f'PRAGMA table_info("{n}")')), lambda n: table(n).pk)
    new = [uid(6500 + i) for i in range(40)]
    random.Random(3).shuffle(new)
    tablet.execute("BEGIN")
    tablet.preupdate_hook(recorder.hook)
    for i, cid in enumerate(new):
        tablet.execute(CONTACT, (cid, twins.fast.org.town_a, ra, f"新{i}"))
    tablet.execute("UPDATE contacts SET notes = '改' WHERE id IN (?, ?)", (ids[3], ids[1]))
    tablet.execute("DELETE FROM contacts WHERE id = ?", (ids[7],))
    changeset = recorder.take(tablet, names)
    tablet.preupdate_hook(None)
    tablet.execute("COMMIT")
    assert [c.new[0] for c in apsw.Changeset.iter(changeset) if c.op == "INSERT"] == new  # first touch
    r = twins.upload(changeset)
    assert r.status == "applied" and r.counts["contacts"].insert == 40 and r.counts["contacts"].delete == 1
    assert twins.taken[-1] is True


def test_history_from_the_capture_equals_history_from_a_whole_session(tmp_path: Path) -> None:
    """``TabletStore`` derives roster history from the first part of the recorder's changeset (the
    tables before roster_history); a session on every uploadable table, replaying the same statements
    on a copy of the database, gives the same rows. Their order is the changeset's: tables in registry
    order, then rows in the order the capture first touched them (a session's follows its own hash)."""
    import shutil

    from schema.tables import uploadable_tables
    from tests.sync import history_reference
    from tests.sync.changeset_factory import record
    from tests.sync.conftest import FakeClock, insert_retiree, make_store, seed_rows

    store = make_store(tmp_path / "tablet.db", FakeClock())
    seed = seed_rows(store)
    other = store.new_id()
    with store.capture() as conn:
        insert_retiree(conn, other, seed.unit_id, name="王五", id_number="110101194001010022")
        conn.execute("INSERT INTO family_contacts (id, unit_id, retiree_id, name, relation) VALUES "
                     "(?, ?, ?, '王小五', 'son')", (uid(8001), seed.unit_id, other))
    for entry in store.pending():
        store.mark_sent(entry.seq, "{}")
    before = store.conn.execute("SELECT count(*) FROM roster_history").fetchone()[0]
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = tmp_path / "copy.db"
    shutil.copyfile(store.conn.filename, copy)
    statements: list[tuple[str, tuple[object, ...]]] = [
        ("INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom, reached,"
         " info_updated) VALUES (?, ?, ?, '2024-05-01', 'phone', 'family', 1, 1)",
         (uid(8002), seed.unit_id, seed.retiree_id)),
        ("UPDATE family_contacts SET phone = '13600000000', lives_with = 1 WHERE retiree_id = ?", (other,)),
        ("UPDATE retirees SET marital_status = 'widowed', living_alone = 1 WHERE id = ?", (seed.retiree_id,)),
        ("UPDATE retirees SET phone = '13500000000' WHERE id = ?", (other,)),
    ]
    with store.capture(seed.staff_id) as conn:
        for sql, args in statements:
            conn.execute(sql, args)
    ref = apsw.Connection(str(copy))
    try:
        ref.execute("BEGIN")
        whole = record(ref, [t.name for t in uploadable_tables()],
                       lambda c: [c.execute(sql, args) for sql, args in statements])
        want = [(r.unit_id, r.retiree_id, r.field, r.old_value, r.new_value)
                for r in history_reference.derive(ref, whole, store.columns)]
        ref.execute("ROLLBACK")
    finally:
        ref.close()
    got = store.conn.execute(
        "SELECT unit_id, retiree_id, field, old_value, new_value FROM roster_history ORDER BY rowid LIMIT -1 OFFSET ?",
        (before,)).fetchall()
    assert len(want) == 5 and sorted(tuple(r) for r in got) == sorted(want)
    assert [r[1] for r in got] == [seed.retiree_id, seed.retiree_id, other, other, other]  # as edited
    sent = {(c.name, c.op) for c in apsw.Changeset.iter(store.pending()[-1].changeset)}
    assert ("roster_history", "INSERT") in sent and ("contacts", "INSERT") in sent


def test_a_row_the_server_already_has_falls_back_and_is_identical(twins: Twins) -> None:
    ra, _ = _retirees(twins)
    same, other = (uid(6300), twins.fast.org.town_a, ra, "同"), (uid(6301), twins.fast.org.town_a, ra, "异")
    twins.server_exec(CONTACT, same)
    twins.server_exec(CONTACT, (*other[:3], "服务器版"))
    r = twins.upload(lambda c: (c.execute(CONTACT, same), c.execute(CONTACT, other),
                                c.execute(CONTACT, (uid(6302), twins.fast.org.town_a, ra, "新"))))
    assert r.status == "conflicted" and r.conflicts == 1  # identical: nothing; different: queued
    assert twins.taken == [False]
