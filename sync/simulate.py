"""A simulated month of a township's field work on one tablet, for the demo and load tests.

Each working day the tablet's staff phone a share of their retirees (so each is reached about once a
month), visit those with a new life event, take and fulfil service orders, deliver documents and
study, and update the roster when they learn something. The tablet is offline for stretches and
syncs only on some days. Every write goes through :meth:`TabletStore.capture`, one transaction per
record, exactly as the app would. Deterministic for a seed; the day is simulated, never read.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sync.store import TabletStore

MENU = ("group_study", "home_study", "counselling", "cultural_sports", "emotional_comfort", "health_care")


@dataclass
class Tally:
    transactions: int = 0
    rows: int = 0
    syncs: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, rows: int = 1) -> None:
        self.transactions += 1
        self.rows += rows
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


class SimClock:
    """The simulated time the tablet's store reads: a working day advances by minutes per record."""

    def __init__(self, day: date) -> None:
        self._t = datetime.combine(day, time(8, 0), tzinfo=UTC)

    def set_day(self, day: date) -> None:
        self._t = datetime.combine(day, time(8, 0), tzinfo=UTC)

    def __call__(self) -> datetime:
        self._t += timedelta(minutes=3)
        return self._t


class Month:
    """Runs ``days`` of work on ``store``, calling ``sync`` on the days the tablet is online."""

    def __init__(self, store: TabletStore, rng: random.Random, *, contest: bool = False,
                 offline: bool = False) -> None:
        self.store = store
        self.rng = rng
        self.contest = contest
        self.offline = offline
        self.tally = Tally()

    def _ids(self, sql: str, args: tuple[object, ...] = ()) -> list[str]:
        return [str(r[0]) for r in self.store.conn.execute(sql, args)]

    def run(self, start: date, days: int, set_day: Callable[[date], None], sync: Callable[[], object]) -> Tally:
        unit = self.store.enrolment().unit_id
        staff: list[str | None] = list(self._ids("SELECT id FROM staff WHERE unit_id = ? ORDER BY id", (unit,)))
        staff = staff or [None]
        retirees = self._ids("SELECT id FROM retirees WHERE unit_id = ? AND deceased_on IS NULL ORDER BY id", (unit,))
        offline_until = start
        for k in range(days):
            today = start + timedelta(days=k)
            set_day(today)
            if today.weekday() < 5 and retirees:
                self._work_day(today, unit, staff, retirees)
            if self.offline:
                continue
            if today >= offline_until and self.rng.random() < 0.6:
                sync()
                self.tally.syncs += 1
            elif today >= offline_until and self.rng.random() < 0.3:
                offline_until = today + timedelta(days=self.rng.randint(2, 6))  # out in the villages
        if not self.offline:  # an offline tablet syncs when it is back in reach, not here
            sync()
            self.tally.syncs += 1
        return self.tally

    def _work_day(self, today: date, unit: str, staff: list[str | None], retirees: list[str]) -> None:
        r = self.rng
        per_day = max(1, len(retirees) // 21)
        for rid in r.sample(retirees, min(per_day, len(retirees))):
            self._contact(today, unit, r.choice(staff), rid)
        if r.random() < 0.5:
            self._event_and_visit(today, unit, r.choice(staff), r.choice(retirees))
        if r.random() < 0.4:
            self._order(today, unit, r.choice(staff), r.choice(retirees))
        if r.random() < 0.3:
            self._must(today, unit, r.choice(staff), r.choice(retirees))
        if self.contest and r.random() < 0.5:  # two tablets of one township correcting the same person
            with self.store.capture() as c:
                c.execute("UPDATE retirees SET phone = ? WHERE id = ?",
                          (f"13{r.randint(0, 9)}{r.randint(10**7, 10**8 - 1)}", retirees[0]))
            self.tally.add("roster")

    def _contact(self, today: date, unit: str, staff: str | None, rid: str) -> None:
        r = self.rng
        reached = r.random() < 0.9
        with self.store.capture(staff_id=staff) as c:
            c.execute(
                "INSERT INTO contacts (id, unit_id, retiree_id, staff_id, contacted_on, channel, with_whom, reached,"
                " info_updated) VALUES (?,?,?,?,?,?,?,?,?)",
                (self.store.new_id(), unit, rid, staff, today.isoformat(), r.choice(["phone"] * 8 + ["in_person"]),
                 r.choice(["self", "self", "family"]), int(reached), int(reached and r.random() < 0.1)),
            )
            if reached and r.random() < 0.06:
                self._update_in(c, rid)
        self.tally.add("contact")

    def _update_in(self, c: object, rid: str) -> None:
        r = self.rng
        col, val = r.choice([
            ("phone", f"13{r.randint(0, 9)}{r.randint(10**7, 10**8 - 1)}"),
            ("health_status", r.choice(["good", "chronic", "serious", "bedridden"])),
            ("hospitalised", r.choice([0, 1])), ("marital_status", "widowed"), ("living_alone", r.choice([0, 1])),
        ])
        c.execute(f"UPDATE retirees SET {col} = ? WHERE id = ?", (val, rid))  # type: ignore[attr-defined]

    def _event_and_visit(self, today: date, unit: str, staff: str | None, rid: str) -> None:
        r = self.rng
        kind, occasion = r.choice([("hospitalised", "illness"), ("hardship", "hardship"),
                                   ("bereavement", "bereavement"), ("complaint", "complaint"),
                                   ("birthday", "holiday_birthday")])
        event_id = self.store.new_id()
        with self.store.capture(staff_id=staff) as c:
            c.execute("INSERT INTO life_events (id, unit_id, retiree_id, kind, occurred_on, reported_by)"
                      " VALUES (?,?,?,?,?,?)", (event_id, unit, rid, kind, today.isoformat(), staff))
        self.tally.add("event")
        if r.random() < 0.85:
            visit_kind = r.choice(["material", "material", "spiritual", "both"])
            with self.store.capture(staff_id=staff) as c:
                c.execute(
                    "INSERT INTO visits (id, unit_id, retiree_id, staff_id, event_id, visited_on, occasion, kind,"
                    " mode, policy_conveyed, gift_yuan) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (self.store.new_id(), unit, rid, staff, event_id,
                     (today + timedelta(days=r.randint(0, 9))).isoformat(), occasion, visit_kind,
                     r.choice(["home", "home", "hospital", "office_pickup"]), int(visit_kind != "material"),
                     float(r.choice([0, 200, 500]))),
                )
            self.tally.add("visit")

    def _order(self, today: date, unit: str, staff: str | None, rid: str) -> None:
        r = self.rng
        fulfilled = r.random() < 0.7
        with self.store.capture(staff_id=staff) as c:
            c.execute(
                "INSERT INTO service_orders (id, unit_id, retiree_id, item, requested_on, status, assigned_to,"
                " assigned_on, fulfilled_on, satisfaction) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (self.store.new_id(), unit, rid, r.choice(MENU), today.isoformat(),
                 "fulfilled" if fulfilled else r.choice(["open", "assigned"]), staff, today.isoformat(),
                 (today + timedelta(days=r.randint(0, 12))).isoformat() if fulfilled else None,
                 r.randint(3, 5) if fulfilled else None),
            )
        self.tally.add("order")

    def _must(self, today: date, unit: str, staff: str | None, rid: str) -> None:
        r = self.rng
        kind = r.choice(["document", "meeting", "guidance"])
        with self.store.capture(staff_id=staff) as c:
            c.execute(
                "INSERT INTO three_musts (id, unit_id, retiree_id, staff_id, kind, item, delivered_on, method)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (self.store.new_id(), unit, rid, staff, kind,
                 {"document": "离退休干部待遇文件", "meeting": "老干部情况通报会", "guidance": "上级会议精神"}[kind],
                 today.isoformat(), r.choice(["in_person", "phone", "mail"])),
            )
        self.tally.add("three_musts")
