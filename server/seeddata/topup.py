"""Bring a generated database made at an older schema version up to this one without generating it again.

A province takes most of an hour to generate and backfill, and a schema version that adds a table or a
column would make its cached copy unusable (``tests/bench``). :func:`top_up` migrates such a file in
place and adds the rows :func:`server.seeddata.generate.generate` now makes for what the newer versions
added, from the rows already there and the same seed, so the result is what a fresh generation gives
(the tests compare the two on a small profile).

A step per version; a version that added nothing generated has none.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from typing import Any

from schema import SCHEMA_VERSION
from schema.migrations import current_version, migrate
from schema.tables import table
from server.seeddata import notices, org
from server.seeddata.common import Calendar, row_maker
from server.seeddata.profiles import get
from server.seeddata.summary import DEFAULT_AS_OF

Progress = Callable[[str, int, int], None]


def _insert(conn: Any, name: str, rows: list[tuple[object, ...]], logged: bool) -> None:
    cols = table(name).column_names()
    conn.executemany(f'INSERT INTO "{name}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})', rows)
    if logged:
        scope = table(name).scope
        k = cols.index(scope) if scope else None
        conn.executemany("INSERT INTO change_log (tbl, row_id, unit_id) VALUES (?, ?, ?)",
                         [(name, r[0], None if k is None else r[k]) for r in rows])


def _v4(conn: Any, chunks: list[org.Chunk], cal: Calendar, logged: bool, progress: Progress | None) -> None:
    """Version 4's notices (三必须事项) and the deliveries' links to them (:mod:`server.seeddata.notices`)."""
    mk = row_maker("notices")
    cols = table("three_musts").column_names()
    select = f"SELECT rowid, {', '.join(cols)} FROM three_musts WHERE unit_id = ?"
    years = {cal.start.year, cal.as_of.year}
    for i, c in enumerate(chunks):
        if progress:
            progress("三必须事项 notices", i, len(chunks))
        # The chunk's deliveries in the order they were generated (and written): unit by unit would
        # reorder them, so read them all and sort by rowid.
        rows: list[tuple[int, tuple[object, ...]]] = []
        for u in c.units:
            rows.extend((int(rid), tuple(r)) for rid, *r in conn.execute(select, (u.id,)))
        rows.sort(key=lambda x: x[0])
        made, linked = notices.link(c, [r for _, r in rows], mk, years)
        with conn:
            _insert(conn, "notices", made, logged)
            k = cols.index("notice_id")
            conn.executemany("UPDATE three_musts SET notice_id = ? WHERE rowid = ?",
                             [(r[k], rid) for (rid, _), r in zip(rows, linked, strict=True) if r[k] is not None])
    if progress:
        progress("三必须事项 notices", len(chunks), len(chunks))


_STEPS: tuple[tuple[int, Callable[[Any, list[org.Chunk], Calendar, bool, Progress | None], None]], ...] = (
    (4, _v4),
)


def top_up(conn: Any, profile: str, seed: int, *, logged: bool = False, as_of: date = DEFAULT_AS_OF,
           progress: Progress | None = None) -> int:
    """Migrate ``conn`` (a database :func:`~server.seeddata.generate.generate` made for ``profile``,
    ``seed`` and ``as_of``) to the current schema and add the generated rows of every version after its
    own (:func:`fill`). Returns the version it was at."""
    have = current_version(conn)
    migrate(conn, "central")
    if have < SCHEMA_VERSION:
        fill(conn, profile, seed, after=have, logged=logged, as_of=as_of, progress=progress)
    return have


def fill(conn: Any, profile: str, seed: int, *, after: int, logged: bool = False, as_of: date = DEFAULT_AS_OF,
         progress: Progress | None = None) -> None:
    """Add to a migrated database the rows the generator makes for what the versions after ``after``
    added; ``logged``: also a ``change_log`` entry per added row (as :func:`generate` leaves one per row)."""
    _, chunks = org.build(random.Random(seed), get(profile))
    cal = Calendar(as_of)
    for version, step in _STEPS:
        if version > after:
            step(conn, chunks, cal, logged, progress)
