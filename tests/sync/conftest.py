"""Fixtures for the tablet tests: a real tablet database file, a fake clock, seeded rows.

Rows of pulled-only tables (units, staff) are written straight through ``store.conn``, as a pull
would; everything a tablet user edits goes through ``store.capture()``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import apsw
import pytest

from sync.store import TabletStore

T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """A clock that moves only when told to."""

    at: datetime = T0

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Seed:
    unit_id: str
    staff_id: str
    retiree_id: str


def make_store(path: Path, clock: FakeClock | None = None, seed: int = 7) -> TabletStore:
    return TabletStore.open(path, now=clock or FakeClock(), rng=random.Random(seed))


def insert_retiree(conn: apsw.Connection, rid: str, unit_id: str, *, name: str = "张三",
                   id_number: str = "110101194001010011") -> None:
    conn.execute(
        "INSERT INTO retirees (id, unit_id, name, sex, birth_date, id_number, category)"
        " VALUES (?, ?, ?, 'male', '1940-01-01', ?, 'general')",
        (rid, unit_id, name, id_number),
    )


def seed_rows(store: TabletStore) -> Seed:
    """A unit and a staff member (pulled rows) and one retiree (captured, then marked sent)."""
    unit_id, staff_id, retiree_id = store.new_id(), store.new_id(), store.new_id()
    store.conn.execute("INSERT INTO units (id, code, name, level) VALUES (?, 'T01', '城关镇', 'township')",
                       (unit_id,))
    store.conn.execute("INSERT INTO staff (id, unit_id, name, role) VALUES (?, ?, '李四', 'full_time')",
                       (staff_id, unit_id))
    with store.capture() as conn:
        insert_retiree(conn, retiree_id, unit_id)
    for entry in store.pending():
        store.mark_sent(entry.seq, '{"seed": true}')
    return Seed(unit_id, staff_id, retiree_id)


def changes(changeset: bytes) -> list[tuple[str, str, Any, Any]]:
    """(table, op, old, new) of every change in a changeset."""
    return [(c.name, c.op, c.old, c.new) for c in apsw.Changeset.iter(changeset)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[TabletStore]:
    s = make_store(tmp_path / "tablet" / "tablet.db", clock)
    yield s
    s.close()


@pytest.fixture
def seeded(store: TabletStore) -> Seed:
    return seed_rows(store)
