"""Time-ordered row ids: RFC 9562 version 7, in the registry's form, sorted by creation time."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import apsw

from schema.ids import time_ordered_id
from schema.migrations import migrate
from schema.validate import validate_row

T0 = datetime(2026, 11, 29, 6, 0, 0, 123000, tzinfo=UTC)


def test_version_variant_and_time_field() -> None:
    rng = random.Random(1)
    u = uuid.UUID(time_ordered_id(T0, rng.getrandbits))
    assert u.version == 7 and u.variant == uuid.RFC_4122
    assert u.int >> 80 == int(T0.timestamp() * 1000)
    naive = uuid.UUID(time_ordered_id(T0.replace(tzinfo=None), random.Random(1).getrandbits))
    assert naive == u  # a naive time is UTC, as the tablet's clock


def test_ids_sort_by_creation_time_and_stay_distinct() -> None:
    rng = random.Random(2)
    ids = [time_ordered_id(T0 + timedelta(milliseconds=k), rng.getrandbits) for k in range(2000)]
    assert ids == sorted(ids)
    same_ms = {time_ordered_id(T0, rng.getrandbits) for _ in range(2000)}
    assert len(same_ms) == 2000


def test_ids_pass_the_registry_checks_on_both_databases() -> None:
    rid = time_ordered_id(T0, random.Random(3).getrandbits)
    validate_row("contacts", {"id": rid}, partial=True)
    conn = apsw.Connection(":memory:")
    migrate(conn, "central")
    conn.execute("INSERT INTO units (id, code, name, level) VALUES (?, '530326', '会泽县', 'county')", (rid,))
    assert conn.execute("SELECT id FROM units").fetchone() == (rid,)
