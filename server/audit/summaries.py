"""Check (and repair) the derived summary tables the canned queries read: ``laogan audit
check-summaries [--repair]`` compares each with a from-scratch recomputation
(``schema.derived.mismatches``); ``--repair`` recomputes them (and recreates their triggers) in one
transaction. They are kept by triggers, so a difference means someone wrote around them."""

from __future__ import annotations

from pathlib import Path

from schema import derived
from server.db import open_central, open_reader


def check(db: Path, *, repair: bool = False) -> dict[str, int]:
    """Tables that differ from a recomputation (before any repair) -> rows that differ."""
    conn = open_central(db, create=False) if repair else open_reader(db)
    try:
        bad = derived.mismatches(conn)
        if repair and bad:
            with conn:
                derived.refill(conn)
        return bad
    finally:
        conn.close()
