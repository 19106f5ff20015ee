"""``python -m server.audit.summaries DB [--repair]``: compare the derived (summary) tables the canned
queries read with a from-scratch recomputation (``schema.derived.mismatches``); exit 1 when one differs.
``--repair`` recomputes them (and recreates their triggers) in one transaction."""

from __future__ import annotations

import sys
from pathlib import Path

import apsw

from schema import derived


def check(db: Path, *, repair: bool = False) -> dict[str, int]:
    """Tables that differ from a recomputation (before any repair) -> rows that differ."""
    conn = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READWRITE if repair else apsw.SQLITE_OPEN_READONLY)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        bad = derived.mismatches(conn)
        if repair and bad:
            with conn:
                derived.refill(conn)
        return bad
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    bad = check(Path(args[0]), repair="--repair" in args[1:])
    for name, n in sorted(bad.items()):
        print(f"{name}: {n} rows differ from a recomputation")
    print("summaries exact" if not bad else ("repaired" if "--repair" in args[1:] else "summaries differ"))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
