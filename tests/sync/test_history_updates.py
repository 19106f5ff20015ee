"""The capture's fast paths give what the slower ones give.

* Roster history from the UPDATEs the recorder lists while encoding (:func:`sync.history.from_updates`,
  what a capture uses) equals history decoded from the changeset it encoded (:func:`tests.sync.history_reference.derive`),
  over random edits of the history sources.
* A whole record (:func:`sync.recorder.record`, encoded inline) is its fields one by one
  (:func:`sync.recorder.value`), for every storage class and the text lengths where the varint grows.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from schema.tables import table, uploadable_tables
from sync import history
from sync.recorder import Recorder, Update, record, value
from sync.store import TabletStore
from tests.sync import history_reference
from tests.sync.conftest import FakeClock, insert_retiree, make_store, seed_rows

_NAMES = tuple(t.name for t in uploadable_tables())
_BEFORE = _NAMES[:_NAMES.index(history.HISTORY_TABLE)]
"""The tables a capture derives history from (those before ``roster_history``, the sources among them)."""


def _edit(rng: random.Random, store: TabletStore, unit_id: str, rids: list[str], fams: list[str]) -> None:
    conn = store.conn
    k = rng.randrange(7)
    text = rng.choice([None, "", "13900000000", "张三", "x" * 200])
    if k == 0:
        rid = store.new_id()
        insert_retiree(conn, rid, unit_id, id_number=str(rng.randrange(10**17)))
        rids.append(rid)
    elif k == 1:
        col = rng.choice(["phone", "address", "hobbies", "health_notes"])
        conn.execute(f"UPDATE retirees SET {col} = ? WHERE id = ?", (text, rng.choice(rids)))
    elif k == 2:
        conn.execute("UPDATE retirees SET marital_status = ?, living_alone = ? WHERE id = ?",
                     (rng.choice(["married", "widowed"]), rng.randrange(2), rng.choice(rids)))
    elif k == 3:
        fid = store.new_id()
        conn.execute("INSERT INTO family_contacts (id, unit_id, retiree_id, name, relation)"
                     " VALUES (?, ?, ?, '小王', 'son')", (fid, unit_id, rng.choice(rids)))
        fams.append(fid)
    elif k == 4 and fams:
        conn.execute("UPDATE family_contacts SET phone = ?, lives_with = ? WHERE id = ?",
                     (text, rng.randrange(2), rng.choice(fams)))
    elif k == 5:
        conn.execute("SAVEPOINT s")
        conn.execute("UPDATE retirees SET phone = 'undone' WHERE id = ?", (rng.choice(rids),))
        if rng.random() < 0.5:
            conn.execute("ROLLBACK TO s")
        conn.execute("RELEASE s")
    else:
        conn.execute("UPDATE retirees SET phone = phone WHERE id = ?", (rng.choice(rids),))


@pytest.mark.parametrize("seed", range(8))
def test_history_from_updates_equals_history_from_the_changeset(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    store = make_store(tmp_path / "tablet.db", FakeClock(), seed=seed)
    try:
        s = seed_rows(store)
        rids, fams = [s.retiree_id], []
        recorder = Recorder.for_tables(_BEFORE, store.columns, lambda n: table(n).pk)
        seen_rows = 0
        for _ in range(12):
            store.conn.execute("BEGIN")
            store.conn.preupdate_hook(recorder.hook)
            try:
                for _ in range(rng.randint(1, 6)):
                    _edit(rng, store, s.unit_id, rids, fams)
                updates: list[Update] = []
                head = recorder.take(store.conn, _BEFORE, updates)
                assert recorder.failure is None
                want = history_reference.derive(store.conn, head, store.columns)
                assert history.from_updates(updates, store.columns) == want
                seen_rows += len(want)
            finally:
                store.conn.preupdate_hook(None)
                recorder.clear()
            store.conn.execute("COMMIT" if rng.random() < 0.7 else "ROLLBACK")
        assert seen_rows > 0
    finally:
        store.close()


def test_a_record_is_its_fields() -> None:
    rng = random.Random(3)
    pool: list[object] = [
        None, 0, 1, -1, 2**63 - 1, -(2**63), 0.0, -0.0, 1.5, 1e300, "", "a", "张三",
        b"", b"\x00\x01", bytearray(b"ab"), memoryview(b"cd"),
    ]
    pool += ["x" * n for n in (126, 127, 128, 129, 16383, 16384, 20000)]
    pool += ["字" * n for n in (42, 43, 5461, 5462)]
    pool += [bytes(n) for n in (127, 128, 16384)]
    for _ in range(500):
        values = tuple(rng.choice(pool) for _ in range(rng.randint(0, 12)))
        assert record(values) == b"".join(value(v) for v in values)
