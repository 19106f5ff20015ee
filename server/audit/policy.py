"""Who may do what: one total decision for every Datasette permission check.

The hook that calls :meth:`Policy.allows` runs last and always answers True or False, so neither
Datasette's defaults nor metadata ``allow`` blocks can widen it; anything not granted below is denied.

=========================  ==========================  =====================================
action                     ``auditor``                 ``senior``
=========================  ==========================  =====================================
view-instance              yes                         yes
view-database              ``masked`` only             ``central``, ``masked``, ``access_log``
view-table                 the ``*_masked`` views      every table and view of those three
view-query                 the auditor queries         every canned query of those three
execute-sql (``?sql=``,    no                          yes (connections are read-only)
``_where=``)
view-database-download     no                          no
anything else              no                          no
=========================  ==========================  =====================================

No actor (anonymous), an actor without our role key, and every database that is not ours
(``_internal``, ``_memory``) get no for everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.audit.names import MASKED, OURS, ROLE_KEY


def role_of(actor: Mapping[str, Any] | None) -> str | None:
    """The audit role of a Datasette actor, or None (anonymous or not one of ours)."""
    if not actor:
        return None
    role = actor.get(ROLE_KEY)
    return role if role in ("auditor", "senior") else None


@dataclass(frozen=True)
class Policy:
    masked_views: frozenset[str]
    auditor_queries: frozenset[str]

    def allows(self, actor: Mapping[str, Any] | None, action: str, resource: object) -> bool:
        role = role_of(actor)
        if role is None:
            return False
        if action == "view-instance":
            return True
        database, item = _split(resource)
        if database not in OURS:
            return False
        if role == "senior":
            return action in ("view-database", "view-table", "view-query", "execute-sql")
        # auditor
        if database != MASKED:
            return False
        if action == "view-database":
            return item is None
        if action == "view-table":
            return item in self.masked_views
        if action == "view-query":
            return item in self.auditor_queries
        return False


def _split(resource: object) -> tuple[str | None, str | None]:
    """``"db"`` -> (db, None); ``("db", "name")`` -> (db, name); anything else -> (None, None)."""
    if isinstance(resource, str):
        return resource, None
    if isinstance(resource, (tuple, list)) and len(resource) == 2 and all(isinstance(x, str) for x in resource):
        return str(resource[0]), str(resource[1])
    return None, None
