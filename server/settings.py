"""The one reader of ``LAOGAN_*`` environment variables. Every setting has a default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Server settings; build with :func:`load_settings` or directly in tests."""

    data_dir: Path = Path("var")
    db_path: Path = field(default=Path("var/central.db"))
    keys_dir: Path = field(default=Path("var/keys"))
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 16 * 1024 * 1024
    max_changeset_bytes: int = 256 * 1024 * 1024
    clock_skew_seconds: int = 300
    enrol_code_hours: int = 24
    pull_page_rows: int = 5000
    device_rate_per_s: float = 20.0
    """Average requests per second allowed per device (0 turns limiting off)."""
    device_burst: int = 200
    writer_cache_mib: int = 32
    """Page cache of the writer connection. Uploads insert at random places in UUID-keyed indexes; with
    group commit the cache survives from one upload to the next (measured: docs/benchmarks.md)."""

    def with_dir(self, data_dir: Path) -> Settings:
        """The same settings rooted at ``data_dir`` (db and keys inside it)."""
        return replace(self, data_dir=data_dir, db_path=data_dir / "central.db", keys_dir=data_dir / "keys")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``LAOGAN_*`` variables (``environ`` defaults to the process environment)."""
    env = os.environ if environ is None else environ
    base = Settings().with_dir(Path(env.get("LAOGAN_DATA_DIR", "var")))
    return replace(
        base,
        db_path=Path(env["LAOGAN_DB"]) if "LAOGAN_DB" in env else base.db_path,
        keys_dir=Path(env["LAOGAN_KEYS_DIR"]) if "LAOGAN_KEYS_DIR" in env else base.keys_dir,
        host=env.get("LAOGAN_HOST", base.host),
        port=int(env.get("LAOGAN_PORT", base.port)),
        max_body_bytes=int(env.get("LAOGAN_MAX_BODY_BYTES", base.max_body_bytes)),
        max_changeset_bytes=int(env.get("LAOGAN_MAX_CHANGESET_BYTES", base.max_changeset_bytes)),
        clock_skew_seconds=int(env.get("LAOGAN_CLOCK_SKEW_SECONDS", base.clock_skew_seconds)),
        enrol_code_hours=int(env.get("LAOGAN_ENROL_CODE_HOURS", base.enrol_code_hours)),
        pull_page_rows=int(env.get("LAOGAN_PULL_PAGE_ROWS", base.pull_page_rows)),
        device_rate_per_s=float(env.get("LAOGAN_DEVICE_RATE_PER_S", base.device_rate_per_s)),
        device_burst=int(env.get("LAOGAN_DEVICE_BURST", base.device_burst)),
        writer_cache_mib=int(env.get("LAOGAN_WRITER_CACHE_MIB", base.writer_cache_mib)),
    )


def child_env(settings: Settings) -> dict[str, str]:
    """The environment for a child ``laogan`` process that must use these settings."""
    return {**os.environ, "LAOGAN_DATA_DIR": str(settings.data_dir), "LAOGAN_DB": str(settings.db_path),
            "LAOGAN_KEYS_DIR": str(settings.keys_dir)}
