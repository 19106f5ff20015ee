"""The canned oversight queries (Chinese titles), one version per role.

``auditor`` versions run in the ``masked`` database and identify people only by id, masked name and
age band; ``senior`` versions run in ``central`` and show names and phones. Both read the live
central tables (in ``masked`` they resolve through the read-only attachment). No query writes, and
none takes a parameter that is compared with a personal column (that would be an oracle).
"""

from __future__ import annotations

from server.audit.queries_notices import NOTICE_QUERIES
from server.audit.queries_ops import OPS_QUERIES
from server.audit.queries_outreach import OUTREACH_QUERIES
from server.audit.queries_party import PARTY_QUERIES
from server.audit.queries_practice import PRACTICE_QUERIES
from server.audit.sqlbits import CannedQuery, Ident, Role


def canned_queries(role: Role) -> tuple[CannedQuery, ...]:
    ident = Ident(role)
    return tuple(build(ident) for build in (*PRACTICE_QUERIES, *PARTY_QUERIES, *OUTREACH_QUERIES, *NOTICE_QUERIES,
                                            *OPS_QUERIES))


def query_names() -> frozenset[str]:
    return frozenset(q.name for q in canned_queries("auditor"))
