"""Names shared by the audit modules: Datasette databases, SQL functions, cookies and paths."""

from __future__ import annotations

CENTRAL = "central"
"""The live central database, read-only; only ``senior`` may open it."""
MASKED = "masked"
"""The masked views over the central database; what an ``auditor`` browses."""
ACCESS_LOG = "access_log"
"""The access log database; only ``senior`` may open it."""
OURS = (CENTRAL, MASKED, ACCESS_LOG)

ATTACHED_CENTRAL = "central"
"""Schema name the central file is attached under on masked-database connections."""

TODAY_FN = "laogan_today"
"""SQL function: today's date (YYYY-MM-DD) from the injected clock."""
VERIFY_FN = "laogan_ledger_verify"
"""SQL function: the ``ledger verify`` verdict as JSON."""

SESSION_COOKIE = "laogan_audit"
SESSION_NAMESPACE = "laogan-audit-session"
LOGIN_PATH = "-/login"
LOGOUT_PATH = "-/logout"
ROLE_KEY = "laogan_role"
"""Key of the role in a Datasette actor dictionary; only our ASGI wrapper sets it."""
SCOPE_KEY = "laogan_actor"
"""ASGI scope key under which the wrapper passes the authenticated actor to Datasette."""
