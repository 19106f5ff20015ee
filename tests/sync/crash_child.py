"""Child process for the crash tests: captures edits and dies by SIGKILL at a chosen moment.

Usage: ``python crash_child.py DB MODE SEED``.  Every capture inserts one contact and changes the
retiree's phone (so roster history is written too).  MODE:

* ``body``         — SIGKILL inside the capture block, after the writes
* ``commit``       — SIGKILL from SQLite's commit hook, i.e. while COMMIT is in progress
* ``after``        — SIGKILL right after the capture committed
* ``loop``         — capture forever, printing ``seq`` after each commit; the parent kills us
"""

from __future__ import annotations

import os
import random
import signal
import sys
from datetime import UTC, datetime

from sync.store import TabletStore


def _die() -> bool:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)
    return False  # pragma: no cover - never reached


def _edit(store: TabletStore, n: int, mode: str) -> None:
    unit_id, retiree_id = store.conn.execute("SELECT unit_id, id FROM retirees LIMIT 1").fetchone()
    with store.capture() as conn:
        conn.execute(
            "INSERT INTO contacts (id, unit_id, retiree_id, contacted_on, channel, with_whom, notes)"
            " VALUES (?, ?, ?, '2024-05-01', 'phone', 'self', ?)",
            (store.new_id(), unit_id, retiree_id, f"n={n}"),
        )
        conn.execute("UPDATE retirees SET phone = ? WHERE id = ?", (f"phone-{store.new_id()}", retiree_id))
        if mode == "body":
            _die()


def main(db: str, mode: str, seed: int) -> None:
    store = TabletStore.open(db, now=lambda: datetime(2024, 5, 1, tzinfo=UTC), rng=random.Random(seed))
    if mode == "commit":
        store.conn.set_commit_hook(_die)
    print("ready", flush=True)
    n = 0
    while True:
        _edit(store, n, mode)
        if mode == "after":
            _die()
        n += 1
        print(n, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
