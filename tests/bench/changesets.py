"""Realistic changesets for a unit of a generated database, made without a tablet.

New rows are clones of the unit's own rows (so every CHECK and foreign key holds) with fresh
time-ordered ids, as tablets make them;
updates change a text column of existing rows, with the server's exact old values (a clean apply).
Changesets are built with :class:`apsw.ChangesetBuilder` against the tablet schema, which is what a
tablet's session would produce for the same rows.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import apsw

from schema import SCHEMA_VERSION
from schema import envelope as env
from schema.ids import time_ordered_id
from schema.keys import KeyPair
from schema.migrations import migrate
from schema.tables import table
from server.db import open_reader

INSERT_MIX: tuple[tuple[str, int], ...] = (("contacts", 12), ("visits", 4), ("three_musts", 4))
"""A 20-row upload: a day of one staff member's phone contacts, visits and documents delivered."""
UPDATE_TABLE, UPDATE_COLUMN = "contacts", "notes"
ID_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
"""Where the makers' simulated clocks start (ids are time-ordered, as tablets make them)."""


@dataclass(frozen=True)
class UnitRows:
    """Template rows of one unit, read once from the central database."""

    unit_id: str
    unit_code: str
    templates: dict[str, list[tuple[Any, ...]]]
    existing: list[tuple[Any, ...]]
    """Rows of :data:`UPDATE_TABLE` that updates may change."""


def units_by_size(db: Path, level: str | None = "township", limit: int = 1000) -> list[tuple[str, str, int]]:
    """(unit id, unit code, retirees) of units at ``level`` (None: any level), largest first."""
    conn = open_reader(db)
    try:
        rows = conn.execute(
            "SELECT u.id, u.code, count(r.id) AS n FROM units u JOIN retirees r ON r.unit_id = u.id"
            " WHERE ?1 IS NULL OR u.level = ?1 GROUP BY u.id ORDER BY n DESC, u.code LIMIT ?2",
            (level, limit)).fetchall()
    finally:
        conn.close()
    return [(str(a), str(b), int(c)) for a, b, c in rows]


def load_unit(db: Path, unit_id: str, tables: Sequence[str] = tuple(t for t, _ in INSERT_MIX),
              max_templates: int = 2000) -> UnitRows:
    conn = open_reader(db)
    try:
        code = str(conn.execute("SELECT code FROM units WHERE id = ?", (unit_id,)).fetchone()[0])
        templates = {}
        for name in tables:
            cols = ", ".join(f'"{c}"' for c in table(name).column_names())
            templates[name] = [tuple(r) for r in conn.execute(
                f'SELECT {cols} FROM "{name}" WHERE unit_id = ? ORDER BY id LIMIT ?', (unit_id, max_templates))]
            if not templates[name]:
                raise ValueError(f"unit {code} has no {name} rows to clone")
        cols = ", ".join(f'"{c}"' for c in table(UPDATE_TABLE).column_names())
        existing = [tuple(r) for r in conn.execute(
            f'SELECT {cols} FROM "{UPDATE_TABLE}" WHERE unit_id = ? ORDER BY id', (unit_id,))]
    finally:
        conn.close()
    return UnitRows(unit_id, code, templates, existing)


class Maker:
    """Builds changesets for one unit; ids come from a seeded RNG (distinct across makers by seed)."""

    def __init__(self, unit: UnitRows, seed: int) -> None:
        self.unit = unit
        self.rng = random.Random(seed)
        self._ms = 0
        self._schema = apsw.Connection(":memory:")
        migrate(self._schema, "tablet")
        self._notes_i = table(UPDATE_TABLE).column_names().index(UPDATE_COLUMN)

    def _new_id(self) -> str:
        """A time-ordered id as a tablet makes one (:func:`schema.ids.time_ordered_id`), from a
        simulated clock that advances a millisecond per row: makers built with the same seed base
        run in step, as tablets capturing at the same time do."""
        self._ms += 1
        return time_ordered_id(ID_EPOCH + timedelta(milliseconds=self._ms), self.rng.getrandbits)

    def _builder(self) -> apsw.ChangesetBuilder:
        b = apsw.ChangesetBuilder()
        b.schema(self._schema, "main")
        return b

    def clones(self, name: str, n: int) -> Iterator[tuple[Any, ...]]:
        tpl = self.unit.templates[name]
        for _ in range(n):
            row = self.rng.choice(tpl)
            yield (self._new_id(), *row[1:])

    def build(self, inserts: Sequence[tuple[str, int]], updates: int = 0) -> bytes:
        """One changeset: ``inserts`` as (table, count) and ``updates`` edits of existing rows."""
        b = self._builder()
        try:
            for name, n in inserts:
                for row in self.clones(name, n):
                    b.add_insert(name, False, row)
            ncols = len(table(UPDATE_TABLE).column_names())
            for i, row in enumerate(self.unit.existing[:updates]):
                old: list[Any] = [apsw.no_change] * ncols
                new: list[Any] = [apsw.no_change] * ncols
                old[0] = row[0]
                old[self._notes_i] = row[self._notes_i]
                new[self._notes_i] = f"{row[self._notes_i] or ''}(复核 {i})"
                b.add_update(UPDATE_TABLE, False, tuple(old), tuple(new))
            return bytes(b.output())
        finally:
            b.close()

    def close(self) -> None:
        self._schema.close()


def seal_upload(changeset: bytes, *, device_id: str, seq: int, keys: KeyPair, server_box: Any, now: int) -> bytes:
    return env.seal(changeset, kind=env.KIND_UPLOAD, device_id=device_id, seq=seq, cursor=0,
                    schema_version=SCHEMA_VERSION, now=now, signing_key=keys.sign_key, recipient=server_box)


def count_changes(changeset: bytes) -> int:
    return sum(1 for _ in apsw.Changeset.iter(changeset))
