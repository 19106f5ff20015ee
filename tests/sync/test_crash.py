"""Crash safety: a capture killed (SIGKILL) at any instant leaves data and outbox in agreement.

The child (``crash_child.py``) runs real captures against a real database file; after each kill the
file is reopened and every row the child could have written is checked against the outbox: a change
is in both or in neither, sequence numbers stay contiguous, and the file passes ``integrity_check``.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import apsw
import pytest

from tests.sync.conftest import make_store, seed_rows

CHILD = Path(__file__).with_name("crash_child.py")


def _spawn(db: Path, mode: str, seed: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, str(CHILD), str(db), mode, str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line == "ready\n", proc.stderr.read() if proc.stderr else line
    return proc


def _finish(proc: subprocess.Popen[str]) -> None:
    rc = proc.wait(timeout=60)
    stderr = proc.stderr.read() if proc.stderr else ""
    if proc.stdout:
        proc.stdout.close()
    if proc.stderr:
        proc.stderr.close()
    assert rc == -signal.SIGKILL, stderr


def _check_agreement(db: Path) -> int:
    """Assert data and outbox agree; returns the number of outbox rows."""
    store = make_store(db, seed=99)
    try:
        conn = store.conn
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        outbox = store.outbox()
        assert [e.seq for e in outbox] == list(range(1, len(outbox) + 1))
        inserted: dict[str, set[str]] = {"contacts": set(), "roster_history": set(), "retirees": set()}
        phone = None
        for entry in outbox:
            for ch in apsw.Changeset.iter(entry.changeset):
                if ch.op == "INSERT":
                    inserted[ch.name].add(ch.new[0])
                    if ch.name == "retirees":
                        phone = ch.new[store.columns("retirees").index("phone")]
                elif ch.op == "UPDATE" and ch.name == "retirees":
                    phone = ch.new[store.columns("retirees").index("phone")]
            # every capture of the child holds its contact, its phone change and the phone's history
            names = sorted(c.name for c in apsw.Changeset.iter(entry.changeset))
            assert entry.seq == 1 or names == ["contacts", "retirees", "roster_history"]
        for name, ids in inserted.items():
            assert {r[0] for r in conn.execute(f"SELECT id FROM {name}")} == ids
        assert conn.execute("SELECT phone FROM retirees").fetchall() == [(phone,)]
        return len(outbox)
    finally:
        store.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "tablet.db"
    store = make_store(path)
    seed_rows(store)
    store.close()
    return path


@pytest.mark.parametrize(("mode", "committed"), [("body", 0), ("commit", 0), ("after", 1)])
def test_kill_at_a_fixed_point(db: Path, mode: str, committed: int) -> None:
    proc = _spawn(db, mode, seed=1)
    _finish(proc)
    assert _check_agreement(db) == 1 + committed


def test_kill_at_random_instants(db: Path) -> None:
    rng = random.Random(20240501)
    seen = 1
    for round_no in range(12):
        proc = _spawn(db, "loop", seed=1000 + round_no)
        assert proc.stdout is not None
        reported = 0
        for _ in range(rng.randint(0, 3)):
            assert proc.stdout.readline().strip() == str(reported + 1)
            reported += 1
        time.sleep(rng.random() * 0.01)  # the kill lands at a random instant of a capture
        proc.send_signal(signal.SIGKILL)
        _finish(proc)
        total = _check_agreement(db)
        assert total >= seen + reported  # everything the child saw committed survived
        seen = total
