"""``AuditApp``: the auditors' Datasette on the live central database, with our plugin registered.

Three databases, each opened by Datasette read-only (``mode=ro``, never ``immutable``: the files
change while we serve them):

* ``central``    — the central database itself (``senior`` only);
* ``masked``     — the masked views (see :mod:`server.audit.masking`); what an ``auditor`` sees;
* ``access_log`` — the access log file (``senior`` only), written by :class:`AccessLog`'s thread.

The clock and the signing secret are parameters; the CLI passes the real clock and a random secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from datasette.app import Datasette, DatasetteClient
from datasette.database import Database
from datasette.plugins import pm

from server.audit.accesslog import AccessLog
from server.audit.auth import Authenticator, Credential
from server.audit.ledgercheck import LedgerCheck
from server.audit.masking import build_masked_db, masked_views
from server.audit.metadata import build_metadata
from server.audit.names import ACCESS_LOG, CENTRAL, MASKED, SESSION_NAMESPACE
from server.audit.plugin import AuditContext, AuditPlugin
from server.audit.policy import Policy
from server.audit.queries import query_names
from server.audit.users import LOOKUP_SQL
from server.errors import ConfigError


@dataclass(frozen=True)
class AuditConfig:
    central: Path
    """The live central database file."""
    masked: Path
    """Where the (data-free) masked-views file is written at start."""
    log: Path
    """The access-log database file."""
    keys_dir: Path
    """The server's key directory (only the public signing key is read, for ledger verify)."""
    sql_time_limit_ms: int = 10_000
    max_returned_rows: int = 2000
    facet_time_limit_ms: int = 1000
    session_hours: int = 8
    base_url: str = "/"
    utc_offset_hours: int = 8
    """Auditors' local time (China Standard Time has no daylight saving)."""

    @classmethod
    def in_dir(cls, central: Path, work_dir: Path, keys_dir: Path, **kw: Any) -> AuditConfig:
        """Masked-views and access-log files inside ``work_dir``."""
        return cls(central, work_dir / "audit_masked.db", work_dir / "audit_log.db", keys_dir, **kw)

    def datasette_settings(self) -> dict[str, Any]:
        return {
            "allow_download": False,
            "suggest_facets": False,
            "default_allow_sql": False,
            "sql_time_limit_ms": self.sql_time_limit_ms,
            "max_returned_rows": self.max_returned_rows,
            "facet_time_limit_ms": self.facet_time_limit_ms,
            "default_cache_ttl": 0,
            "template_debug": False,
            "trace_debug": False,
            "base_url": self.base_url,
        }


class AuditApp:
    """Build with :func:`build_audit_app`; use as a context manager (or call :meth:`close`)."""

    def __init__(self, config: AuditConfig, *, clock: Callable[[], datetime], secret: str) -> None:
        if not config.central.exists():
            raise ConfigError(f"没有中心数据库 {config.central} (no central database at {config.central})",
                              code="no_database")
        self.config = config
        build_masked_db(config.masked)
        self.log = AccessLog(config.log)
        self.ledger = LedgerCheck(config.central, config.keys_dir)
        ds = Datasette(files=[], metadata=build_metadata(), settings=config.datasette_settings(), secret=secret,
                       plugins_dir=None, cache_headers=False)
        ds.remove_database("_memory")
        for name, path in ((CENTRAL, config.central), (MASKED, config.masked), (ACCESS_LOG, config.log)):
            ds.add_database(Database(ds, path=str(path.resolve()), is_mutable=True), name=name, route=name)
        self.datasette = ds

        async def lookup(name: str) -> Credential | None:
            rows = (await ds.get_database(CENTRAL).execute(LOOKUP_SQL, [name])).rows
            if not rows:
                return None
            r = rows[0]
            return Credential(str(r[0]), str(r[1]), str(r[2]), r[3], r[4])

        auth = Authenticator(lookup, clock=clock, sign=lambda v: ds.sign(v, SESSION_NAMESPACE),
                             unsign=lambda s: ds.unsign(s, SESSION_NAMESPACE), session_hours=config.session_hours)
        policy = Policy(frozenset(v.name for v in masked_views()), query_names())
        zone = timezone(timedelta(hours=config.utc_offset_hours))
        self._plugin_name = f"laogan-audit-{id(self)}"
        ctx = AuditContext(config.central, policy, auth, self.log, self.ledger, clock, zone)
        self.plugin = AuditPlugin(ds, ctx, self._plugin_name)
        pm.register(self.plugin, name=self._plugin_name)
        # Datasette builds its in-process client at construction, before our hooks existed: rebuild it.
        ds.client = DatasetteClient(ds)
        self._closed = False

    def asgi(self) -> Any:
        """The ASGI application (our wrapper outermost) to run with uvicorn."""
        return self.datasette.app()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if pm.get_plugin(self._plugin_name) is not None:
            pm.unregister(name=self._plugin_name)
        self.log.close()
        self.ledger.close()
        for db in self.datasette.databases.values():
            db.close()
        if self.datasette.executor is not None:
            self.datasette.executor.shutdown(wait=True)

    def __enter__(self) -> AuditApp:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def build_audit_app(config: AuditConfig, *, clock: Callable[[], datetime], secret: str) -> AuditApp:
    return AuditApp(config, clock=clock, secret=secret)
