"""``bench_canned_queries`` runs every query for both roles (``make bench`` prints the numbers)."""

from __future__ import annotations

import re
from datetime import date

from server.audit.bench import BASELINE, bench_canned_queries
from server.audit.queries import canned_queries
from server.audit.sqlbits import ROLES
from tests.server.audit.fixture import Fixture


def test_bench_covers_every_query(fx: Fixture) -> None:
    ticks = iter(range(10_000))
    got = bench_canned_queries(fx.db, runs=2, today=date(2026, 11, 20), keys_dir=fx.settings.keys_dir,
                               timer=lambda: float(next(ticks)))
    names = [n for n, _ in got]
    assert names[0] == BASELINE
    months = {n.rsplit("@", 1)[1] for n in names if not n.endswith("@county") and "@" in n}
    assert len(months) == 1  # the notices' busiest month, for every query with a month
    busiest = months.pop()
    assert re.fullmatch(r"\d{4}-\d{2}", busiest)
    for role in ROLES:
        for q in canned_queries(role):
            assert f"{role}:{q.name}" in names
            assert (f"{role}:{q.name}@county" in names) == ("unit" in q.params)
            assert (f"{role}:{q.name}@{busiest}" in names) == ("month" in q.params)
    assert all(ms == 1000.0 for _, ms in got)  # the injected timer ticks one second per reading
