"""Every canned auditor query on the province database: p95 ≤ 200 ms.

Calls ``server.audit.bench.bench_canned_queries`` (written with the audit app), which runs each
query for both roles as Datasette would and returns a baseline (a full count of ``retirees``) first.
The database is the province profile with its change_log backfilled (``--quick``: the city).
"""

from __future__ import annotations

from pathlib import Path

from tests.bench.common import CACHE, Ctx, Result, logged_db

LIMIT_MS = 200.0


def bring_indexes_up_to_date(db: Path, echo: Ctx | None = None) -> list[str]:
    """Give a cached database the registry's central indexes for this schema version, in place.

    The cache is keyed by the tables' columns only, so a file generated before an index was added (or
    changed) keeps its old indexes; regenerating the province takes most of an hour, building its
    indexes a minute. Drops ``ix_`` indexes the registry no longer has, creates the missing ones, makes
    and fills the derived (summary) tables with their triggers (:func:`schema.derived.bring_up_to_date`),
    sets ``user_version``. Returns what it did.
    """
    import apsw

    from schema import SCHEMA_VERSION
    from schema.ddl import index_name, index_sql
    from schema.derived import bring_up_to_date
    from schema.tables import derived_tables, tables_for

    derived = {t.name for t in derived_tables()}  # their indexes: bring_up_to_date
    want = {index_name(t, ix): sql for t in tables_for("central") if t.name not in derived for ix in t.indexes
            if ix.present("central", SCHEMA_VERSION) for sql in index_sql(t, [ix])}
    conn = apsw.Connection(str(db))
    done: list[str] = []
    try:
        have = {str(r[0]) for r in conn.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix\\_%' ESCAPE '\\'")
            if str(r[1]) not in derived}
        with conn:
            for name in sorted(have - set(want)):
                conn.execute(f'DROP INDEX "{name}"')
                done.append(f"dropped {name}")
            for name in sorted(set(want) - have):
                if echo is not None:
                    echo.echo(f"  creating index {name} in {db.name} ...")
                conn.execute(want[name])
                done.append(f"created {name}")
            if echo is not None:
                echo.echo(f"  derived tables of {db.name} ...")
            done += bring_up_to_date(conn)
            conn.execute(f"PRAGMA user_version = {int(SCHEMA_VERSION)}")
        if done:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return done


def run(ctx: Ctx) -> list[Result]:
    try:
        from server.audit.bench import bench_canned_queries
    except ImportError:
        return [Result("audit_queries", None, "", note="not available yet (server.audit.bench)")]
    from schema.keys import KeyPair

    profile = "city" if ctx.quick else "province"
    db = logged_db(ctx, profile)
    bring_indexes_up_to_date(db, ctx)
    keys = CACHE / "audit-keys"
    if not (keys / "sign.key").exists():
        KeyPair.generate().save(keys)  # the ledger check only needs a server public key to read
    got = bench_canned_queries(db, runs=3 if ctx.quick else 20, keys_dir=keys)
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
