"""Every canned auditor query on the province database: p95 ≤ 200 ms.

Calls ``server.audit.bench.bench_canned_queries`` (written with the audit app), which runs each
query for both roles as Datasette would and returns a baseline (a full count of ``retirees``) first.
The database is the province profile with its change_log backfilled (``--quick``: the city).
"""

from __future__ import annotations

from tests.bench.common import CACHE, Ctx, Result, logged_db

LIMIT_MS = 200.0


def run(ctx: Ctx) -> list[Result]:
    try:
        from server.audit.bench import bench_canned_queries
    except ImportError:
        return [Result("audit_queries", None, "", note="not available yet (server.audit.bench)")]
    from schema.keys import KeyPair

    profile = "city" if ctx.quick else "province"
    db = logged_db(ctx, profile)
    keys = CACHE / "audit-keys"
    if not (keys / "sign.key").exists():
        KeyPair.generate().save(keys)  # the ledger check only needs a server public key to read
    got = bench_canned_queries(db, runs=3 if ctx.quick else 5, keys_dir=keys)
    (_, base), queries = got[0], got[1:]
    ctx.extra["audit_queries"] = {"profile": profile, "baseline": [got[0][0], round(base, 2)],
                                  "p95_ms": {n: round(ms, 2) for n, ms in queries}}
    worst = sorted(queries, key=lambda q: -q[1])
    name, top = worst[0]
    over = [q for q in worst if q[1] > LIMIT_MS]
    full = profile == "province"
    out = [Result("audit_queries_worst_p95", top, "ms", base, "ms full count", top / base if base else None,
                  f"≤ {LIMIT_MS:.0f} ms each", (not over) if full else None,
                  f"{len(queries)} runs (queries × roles), {len(over)} over; worst {name}"
                  + ("" if full else " (quick: city database)"))]
    out += [Result(f"  {n}", ms, "ms", base, "ms full count", ms / base if base else None, f"≤ {LIMIT_MS:.0f} ms",
                   False if full else None, "over the limit") for n, ms in over]
    return out
