"""Generate a realistic central database: plan the whole population, then fill it county by county.

The plan fixes the exact totals of the profile (retirees per category, staff, branches, members,
venues) and splits them over units and counties; each county is then generated and written in one
transaction (a savepoint if the caller already holds one), so a province never sits in memory at once.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from schema import derived
from schema.domain_tables import DOMAIN_TABLES
from schema.tables import synced_tables
from server.db import open_central
from server.seeddata import contacts, idcard, notices, org, party, party_dual, roster, services, visits
from server.seeddata.common import Calendar, cumulative, largest_remainder, row_maker
from server.seeddata.profiles import Profile, get
from server.seeddata.summary import DEFAULT_AS_OF
from server.seeddata.writer import BulkWriter

Progress = Callable[[str, int, int], None]

_AFFINITY = (  # category -> (township, county department, city department)
    ("lixiu", (1.0, 3.0, 5.0)), ("county_level", (0.3, 4.0, 8.0)),
    ("section_level", (1.0, 2.0, 2.0)), ("general", (1.2, 0.8, 0.8)),
)
_MEMBER_SHARE = (("lixiu", 1.0), ("county_level", 0.95), ("section_level", 0.75), ("general", 0.1))


@dataclass(frozen=True)
class GenerateStats:
    profile: str
    seed: int
    rows: tuple[tuple[str, int], ...]
    """Rows written per table, in insertion order."""
    seconds: float
    insert_seconds: float
    """Time spent inside ``executemany`` (and rebuilding indexes)."""

    @property
    def total_rows(self) -> int:
        return sum(n for _, n in self.rows)

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    @property
    def insert_rows_per_second(self) -> float:
        return self.total_rows / self.insert_seconds if self.insert_seconds else 0.0

    def count(self, table_name: str) -> int:
        return dict(self.rows).get(table_name, 0)


def _slots(rng: random.Random, profile: Profile, chunks: list[org.Chunk]) -> dict[str, list[str]]:
    """Unit id -> the categories of its retirees (exact totals per category)."""
    serving = [(u, c.head.level == "county") for c in chunks for u in c.units]
    out: dict[str, list[str]] = {u.id: [] for u, _ in serving}
    affinity = dict(_AFFINITY)
    for category, count in profile.categories:
        a = affinity[category]
        cum = cumulative([u.weight * (a[0] if u.township else a[1] if in_county else a[2]) for u, in_county in serving])
        for i in rng.choices(range(len(serving)), cum_weights=cum, k=count):
            out[serving[i][0].id].append(category)
    for cats in out.values():
        rng.shuffle(cats)
    return out


def _staffing(rng: random.Random, profile: Profile, units: list[org.Unit], chunks: list[org.Chunk],
              slots: dict[str, list[str]]) -> tuple[dict[str, int], dict[str, int]]:
    """Supervisors per head unit and caseworkers per serving unit (some units understaffed)."""
    heads = [u for u in units if u.level in ("province", "city", "county")]
    sup = {u.id: 1 for u in heads}
    sup[heads[0].id] += 1
    serving = [u for c in chunks for u in c.units]
    weights = [max(len(slots[u.id]), 1) / 33 * (0.4 + 0.3 * rng.random() if rng.random() < 0.2
                                                 else 0.9 + 0.3 * rng.random()) for u in serving]
    counts = largest_remainder(profile.staff - sum(sup.values()), weights, minimum=1)
    return sup, {u.id: n for u, n in zip(serving, counts, strict=True)}


def _check_empty(conn: Any) -> None:
    if conn.execute("SELECT count(*) FROM units").fetchone()[0]:
        raise ValueError("the database already holds units; seed data goes into an empty central database")


def generate_into(conn: Any, profile: str | Profile, rng: random.Random, as_of: date = DEFAULT_AS_OF, *,
                  progress: Progress | None = None, writer: BulkWriter | None = None) -> dict[str, int]:
    """Fill an open, migrated, empty central database; returns rows written per table.

    Each county is written in its own ``with conn:`` block, which nests as a savepoint when the
    caller already holds a transaction. The derived (summary) tables' triggers are off while the rows are
    written and the summaries are computed once at the end (:mod:`schema.derived`), which is faster.
    """
    p = profile if isinstance(profile, Profile) else get(profile)
    _check_empty(conn)
    w = writer or BulkWriter(conn)
    cal = Calendar(as_of)
    mk = {t.name: row_maker(t.name) for t in DOMAIN_TABLES}
    units, chunks = org.build(rng, p)
    slots = _slots(rng, p, chunks)
    sup, caseworkers = _staffing(rng, p, units, chunks, slots)
    share = dict(_MEMBER_SHARE)
    chunk_retirees = [sum(len(slots[u.id]) for u in c.units) for c in chunks]
    member_w = [sum(share[cat] for u in c.units for cat in slots[u.id]) for c in chunks]
    member_q = largest_remainder(p.members, member_w)
    branch_q = largest_remainder(p.branches, [float(q) for q in member_q], minimum=1)
    venue_q = largest_remainder(p.venues, [float(n) for n in chunk_retirees], minimum=1)
    ids = idcard.Allocator()
    rot = party.Rotation()
    with conn:
        derived.drop_triggers(conn)
        w.write("units", org.unit_rows(units, mk["units"]))
        _, menu = org.menu_rows(rng, mk["service_menu"])
        w.write("service_menu", menu)
        w.write("staff", [r for u in units if u.id in sup for r in org.staff_rows(rng, u, sup[u.id], mk["staff"], True)])
    for i, c in enumerate(chunks):
        if progress:
            progress("县区 counties", i, len(chunks))
        with conn:
            _chunk(rng, c, cal, mk, w, ids, rot, slots, caseworkers, member_q[i], branch_q[i], venue_q[i])
    if progress:
        progress("县区 counties", len(chunks), len(chunks))
    if not w.indexes_deferred:  # else the caller refills once it has rebuilt them (see generate)
        with conn:
            derived.refill(conn)
    return dict(w.counts)


def _chunk(rng: random.Random, c: org.Chunk, cal: Calendar, mk: dict[str, Any], w: BulkWriter,
           ids: idcard.Allocator, rot: party.Rotation, slots: dict[str, list[str]], caseworkers: dict[str, int],
           n_members: int, n_branches: int, n_venues: int) -> None:
    w.write("staff", [r for u in c.units for r in org.staff_rows(rng, u, caseworkers[u.id], mk["staff"])])
    venue_rows = org.venue_rows(rng, c, n_venues, cal, mk["venues"])
    venues = [(str(r[1]), str(r[0])) for r in venue_rows]
    resource_rows, resources = org.resource_rows(rng, c, mk["community_resources"])
    w.write("venues", venue_rows)
    w.write("community_resources", resource_rows)
    people, rows, values = roster.retirees(rng, c, [(u, cat) for u in c.units for cat in slots[u.id]], cal, ids,
                                           mk["retirees"])
    w.write("retirees", rows)
    w.write("family_contacts", roster.family(rng, c, people, values, mk["family_contacts"]))
    bs = party.branches(rng, c, party.select_members(rng, people, n_members), n_branches, rot)
    w.write("party_branches", party.branch_rows(rng, bs, cal, mk["party_branches"]))
    members = party.member_rows(rng, bs, cal, mk["party_members"])
    dual_rng = party_dual.rng_for(c.head.id)  # its own draws: the rest of the county stays as it was
    dual = party_dual.plan(dual_rng, bs, members, c.stems, mk["party_groups"], mk["party_members"])
    w.write("party_groups", dual.groups)
    w.write("party_members", party_dual.with_groups(members, dual.group_of) + dual.members)
    contact_rows, history = contacts.contacts(rng, people, values, cal, mk["contacts"], mk["roster_history"])
    w.write("contacts", contact_rows)
    w.write("roster_history", history)
    evs, event_rows = visits.events(rng, c.units, people, cal, mk["life_events"])
    w.write("life_events", event_rows)
    w.write("visits", visits.visits(rng, evs, people, cal, mk["visits"]))
    notice_rows, must_rows = notices.link(c, services.musts(rng, people, cal, mk["three_musts"]), mk["notices"],
                                          {cal.start.year, cal.as_of.year})
    w.write("notices", notice_rows)
    w.write("three_musts", must_rows)
    w.write("three_helps", services.helps(rng, people, evs, cal, mk["three_helps"]))
    w.write("service_orders", services.orders(rng, people, cal, resources, venues, c.head.id, mk["service_orders"]))
    meetings, attendance, home = party.meetings(rng, bs, venues, cal, (mk["party_meetings"],
                                                                       mk["meeting_attendance"], mk["home_study"]))
    w.write("party_meetings", meetings)
    w.write("meeting_attendance", attendance + party_dual.attendance(dual_rng, dual, meetings, mk["meeting_attendance"]))
    w.write("home_study", home)


def backfill_change_log(conn: Any) -> None:
    """One ``change_log`` entry per synced row, as a ledgered import would leave, so that tablets
    enrolled on a generated database pull its rows."""
    with conn:
        for t in synced_tables():
            scope = f'"{t.scope}"' if t.scope else "NULL"
            conn.execute(f"INSERT INTO change_log (tbl, row_id, unit_id) SELECT '{t.name}', id, {scope} FROM \"{t.name}\"")


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        q = path.with_name(path.name + suffix)
        if q.exists():
            q.unlink()


def generate(path: Path, profile: str, seed: int, *, as_of: date = DEFAULT_AS_OF,
             progress: Progress | None = None, clock: Callable[[], float] = time.perf_counter) -> GenerateStats:
    """Create ``path`` (which must not exist) holding ``profile``'s population for ``seed``.

    Writes ``path.partial`` and renames it, so ``path`` is either absent or complete.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists; seed data is only written to a new file")
    p = get(profile)
    partial = path.with_name(path.name + ".partial")
    _remove(partial)
    t0 = clock()
    conn = open_central(partial)
    try:
        # A fresh file that is deleted on any failure: no durability needed until the rename.
        conn.execute("PRAGMA journal_mode = MEMORY")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -1000000")
        w = BulkWriter(conn)
        w.defer_indexes()
        generate_into(conn, p, random.Random(seed), as_of, progress=progress, writer=w)
        if progress:
            progress("变更流水 change log", 0, 1)
        backfill_change_log(conn)
        if progress:
            progress("索引 indexes", 0, 1)
        w.restore_indexes()
        with conn:
            derived.refill(conn)  # the summaries, computed with the indexes back
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        os.replace(partial, path)
    except BaseException:
        conn.close()
        _remove(partial)
        raise
    seconds = clock() - t0
    return GenerateStats(profile, seed, tuple(w.counts.items()), seconds, w.insert_seconds + w.index_seconds)
