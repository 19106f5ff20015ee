"""What every benchmark shares: results, the run context, cached databases, a live server, devices."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw

from schema.keys import KeyPair, b64e
from schema.tables import synced_tables
from server import devices
from server.db import open_writer
from server.serverkeys import init_server
from server.settings import Settings
from tests.conftest import NOW, LiveServer, start_server, stop_server

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "var" / "bench"
SEED = 1


@dataclass
class Result:
    """One row of the results table.

    ``ratio`` is value / baseline; ``passed`` is None when there is no target or nothing was measured.
    """

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_unit: str = ""
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "n/a" if self.value is None else "-"
        return "PASS" if self.passed else "FAIL"


@dataclass
class Ctx:
    """The run: size, where scratch files go, how to report progress."""

    quick: bool
    tmp: Path
    echo: Callable[[str], None] = print
    regenerate: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    """Side facts for the report (generator ceiling, sizes, ...): name -> printable value."""

    def scratch(self, name: str) -> Path:
        p = self.tmp / name
        if p.exists():
            shutil.rmtree(p)
        p.mkdir(parents=True)
        return p


# -- the machine ---------------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _wrk_version() -> str:
    exe = shutil.which("wrk")
    if exe is None:
        return "not installed"
    out = subprocess.run([exe, "-v"], capture_output=True, text=True, check=False)
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0].split(" Copyright")[0] if text else "unknown"


def machine() -> dict[str, str]:
    import cryptography
    import uvicorn
    import zstandard

    return {
        "nproc": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "ram": f"{_ram_gib():.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": apsw.sqlite_lib_version(),
        "apsw": apsw.apsw_version(),
        "litestar": _dist("litestar"),
        "uvicorn": uvicorn.__version__,
        "cryptography": cryptography.__version__,
        "zstandard": zstandard.__version__,
        "wrk": _wrk_version(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _dist(name: str) -> str:
    from importlib.metadata import version

    return version(name)


# -- measuring -------------------------------------------------------------------------------------

def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set (VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (and its reaped children) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


# -- cached databases ------------------------------------------------------------------------------

def _generator_digest() -> str:
    h = hashlib.sha256()
    for p in sorted((REPO / "server" / "seeddata").glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def schema_matches(db: Path) -> bool:
    """Whether ``db`` has exactly the registry's central tables and columns (a cached file made before
    a schema change cannot be used)."""
    from schema.tables import tables_for

    conn = apsw.Connection(f"file:{db.resolve()}?mode=ro", flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    try:
        for t in tables_for("central"):
            if t.sync == "derived":
                continue  # summaries are built in place by the audit benchmark (schema.derived)
            cols = tuple(str(r[0]) for r in conn.execute("SELECT name FROM pragma_table_info(?)", (t.name,)))
            if cols != t.column_names():
                return False
    finally:
        conn.close()
    return True


def seeded_db(ctx: Ctx, profile: str, seed: int = SEED) -> Path:
    """``var/bench/{profile}-{seed}.db`` from :func:`server.seeddata.generate.generate`, generated once.

    A sidecar JSON records the generator's source digest; a changed generator only warns (a province
    takes minutes): pass ``--regenerate`` to rebuild.
    """
    from server.seeddata.generate import generate

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{profile}-{seed}.db"
    meta = path.with_suffix(".json")
    digest = _generator_digest()
    stale = path.exists() and not schema_matches(path)
    if stale:
        ctx.echo(f"  {path.name} has another schema than the registry: regenerating")
    if path.exists() and (stale or ctx.regenerate) and not ctx.extra.get(f"regenerated:{profile}"):
        for p in (path, meta, CACHE / f"{profile}-{seed}-logged.db", CACHE / f"{profile}-{seed}-logged.json"):
            p.unlink(missing_ok=True)
        ctx.extra[f"regenerated:{profile}"] = True
    if not path.exists():
        ctx.echo(f"  generating the {profile} profile (seed {seed}) into {path.relative_to(REPO)} ...")
        last = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] > 15 or done == total:
                last[0] = now
                ctx.echo(f"    {stage} {done}/{total}")

        stats = generate(path, profile, seed, progress=progress)
        meta.write_text(json.dumps({"profile": profile, "seed": seed, "generator": digest,
                                    "rows": stats.total_rows, "seconds": round(stats.seconds, 1)}))
    elif not meta.exists():
        meta.write_text(json.dumps({"profile": profile, "seed": seed, "generator": digest}))
    else:
        had = json.loads(meta.read_text()).get("generator")
        if had != digest:
            ctx.echo(f"  note: {path.name} was made by another version of server/seeddata (--regenerate rebuilds)")
    return path


def logged_db(ctx: Ctx, profile: str, seed: int = SEED) -> Path:
    """The seeded database as if imported through the ledger: one ``change_log`` row per synced row.

    The generator writes the domain tables directly (a province does not fit one ledgered
    transaction), so ``change_log`` is empty there; a real central database has one entry per row
    at least, and pulls read ``change_log``. Cached beside the seeded file.
    """
    src = seeded_db(ctx, profile, seed)
    path = CACHE / f"{profile}-{seed}-logged.db"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists() and json.loads(meta.read_text()).get("source_mtime") == src.stat().st_mtime:
        return path
    ctx.echo(f"  backfilling change_log into {path.relative_to(REPO)} ...")
    partial = path.with_name(path.name + ".partial")
    copy_db(src, partial)
    conn = apsw.Connection(str(partial))
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -1000000")
        with conn:
            for t in synced_tables():
                scope = f'"{t.scope}"' if t.scope else "NULL"
                conn.execute(f"INSERT INTO change_log (tbl, row_id, unit_id, ledger_id, captured_at) "
                             f"SELECT '{t.name}', id, {scope}, NULL, '2026-09-30 00:00:00' FROM \"{t.name}\" "
                             f"ORDER BY rowid")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    os.replace(partial, path)
    meta.write_text(json.dumps({"source": src.name, "source_mtime": src.stat().st_mtime}))
    return path


def raw_copy(db: Path, path: Path, cache_kib: int | None = None) -> apsw.Connection:
    """A plain apsw connection to a fresh copy of ``db`` at ``path`` with the server's pragmas (WAL,
    ``synchronous = FULL``, foreign keys; ``cache_kib``: a page cache of that size), the file already
    opened, so a raw baseline's clock starts on the work alone."""
    copy_db(db, path)
    conn = apsw.Connection(str(path))
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    if cache_kib is not None:
        conn.execute(f"PRAGMA cache_size = -{cache_kib}")
    conn.execute("SELECT count(*) FROM contacts").fetchone()
    return conn


def copy_db(src: Path, dst: Path) -> None:
    """Copy a (checkpointed, closed) SQLite file; removes stale -wal/-shm beside ``dst``."""
    for suffix in ("-wal", "-shm", "-journal"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    shutil.copyfile(src, dst)


# -- a server directory and a live server ----------------------------------------------------------

def server_dir(root: Path, db: Path | None = None) -> Settings:
    """A server directory under ``root``: ``central.db`` (a copy of ``db``, or empty) and keys."""
    settings = Settings().with_dir(root / "server")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if db is not None:
        copy_db(db, settings.db_path)
    init_server(settings)
    return settings


@dataclass
class Enrolled:
    device_id: str
    unit_id: str
    keys: KeyPair


def enrol(settings: Settings, unit_codes: Sequence[str], seed: int = 7) -> list[Enrolled]:
    """Enrol one device per unit code directly in the database (the server need not be running)."""
    rng = random.Random(seed)
    conn = open_writer(settings.db_path)
    out = []
    try:
        for code in unit_codes:
            keys = KeyPair.generate(lambda n: rng.randbytes(n))
            one_time = devices.create_code(conn, code, now=NOW, rng=rng, hours=24 * 365 * 10)
            sp, bp = keys.public_bytes()
            got = devices.enroll(conn, code=one_time, sign_pub=b64e(sp), box_pub=b64e(bp), label=f"bench-{code}",
                                 now=NOW, rng=rng)
            out.append(Enrolled(got.device.id, got.device.unit_id, keys))
    finally:
        conn.close()
    return out


@contextmanager
def live_server(settings: Settings, log: Path, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    server = start_server(settings, log, deadline_s=120.0, extra_env=env)
    try:
        yield server
    finally:
        stop_server(server)


def python() -> str:
    return sys.executable
