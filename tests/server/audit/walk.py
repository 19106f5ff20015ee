"""Every path into the audit Datasette worth trying, and the search of a response for personal values."""

from __future__ import annotations

import html
import json
import urllib.parse

from schema.tables import tables_for
from server.audit.masking import masked_views
from server.audit.queries import canned_queries
from tests.server.audit.fixture import Fixture, R

INSTANCE_PAGES = (
    "/", "/.json", "/-/metadata", "/-/metadata.json", "/-/databases.json", "/-/settings.json", "/-/versions.json",
    "/-/plugins.json", "/-/threads.json", "/-/actor.json", "/-/permissions", "/-/messages", "/-/patterns",
    "/-/allow-debug?actor=%7B%22id%22%3A%22root%22%7D&allow=%7B%7D", "/-/auth-token?token=x", "/-/config.json",
    "/-/static/app.css", "/favicon.ico", "/_memory", "/_memory.json?sql=select+1", "/_internal",
    "/_internal.json?sql=select+*+from+tables", "/:memory:",
)
SQL_PROBES = ("select * from retirees", "select name, phone, id_number from central.retirees",
              "select * from main.retirees")


def _q(params: dict[str, str]) -> str:
    return urllib.parse.urlencode(params)


def database_paths(db: str) -> list[str]:
    out = [f"/{db}", f"/{db}.json", f"/{db}.db"]
    for sql in SQL_PROBES:
        for fmt in ("", ".json", ".csv"):
            out.append(f"/{db}{fmt}?{_q({'sql': sql})}")
    return out


def central_paths() -> list[str]:
    out: list[str] = []
    for t in tables_for("central"):
        base = f"/central/{t.name}"
        out += [base, base + ".json", base + ".csv", base + "?_labels=on", base + ".json?_labels=on"]
        out += [f"{base}.json?_facet={c}" for c in t.personal_columns()]
    out += [f"/central/retirees/{R[1]}", f"/central/retirees/{R[1]}.json",
            "/central/ledger/1.blob?_blob_column=effect", "/central/uploads/1.blob?_blob_column=envelope"]
    out += [f"/central/{q.name}.json" for q in canned_queries("senior")]
    return out


def masked_paths() -> list[str]:
    out: list[str] = []
    for v in masked_views():
        base = f"/masked/{v.name}"
        out += [base, base + ".json", base + ".csv", base + "?_labels=on", base + ".json?_labels=on",
                base + ".csv?_labels=on&_stream=on", base + ".json?_shape=array&_size=max", base + "/1",
                base + "/1.json", base + ".json?_where=1", base + "?_sort=name", base + "?_col=name"]
        out += [f"{base}.json?_facet={c.name}" for c in v.columns]
        out += [f"{base}.json?_facet={c}" for c in v.table.personal_columns()]
    r = "/masked/retirees_masked.json"
    out += [f"{r}?name=王建国", f"{r}?name__contains=王", f"{r}?{_q({'_where': 'name like ' + repr('王%')})}",
            r + "?" + _q({"_through": json.dumps({"table": "retirees", "column": "name", "value": "王建国"})}),
            r + "?" + _q({"_through": json.dumps({"table": "family_contacts", "column": "name", "value": "王小军"})}),
            "/masked/retirees", "/masked/retirees.json", "/masked/family_contacts.csv"]
    for q in canned_queries("auditor"):
        for fmt in ("", ".json", ".csv"):
            out.append(f"/masked/{q.name}{fmt}?{_q({'unit': '', 'month': '2026-11', 'tbl': 'retirees', 'row_id': R[1]})}")
        out.append(f"/masked/{q.name}.json?{_q({'sql': 'select name, phone from retirees'})}")
    return out


def all_paths() -> list[str]:
    out = list(INSTANCE_PAGES)
    for db in ("central", "masked", "access_log"):
        out += database_paths(db)
    out += central_paths() + masked_paths()
    out += ["/access_log/audit_access_log", "/access_log/audit_access_log.json", "/access_log/audit_access_log.csv"]
    return out


def forms(value: str) -> set[str]:
    """The ways ``value`` can appear in a response body: raw, JSON-escaped, HTML-escaped, URL-encoded."""
    return {value, json.dumps(value)[1:-1], html.escape(value), urllib.parse.quote(value),
            urllib.parse.quote_plus(value)}


def leaks(body: str, request: str = "") -> list[str]:
    """The fixture's personal values found in ``body`` (a value the request itself carried is an echo, not a
    leak: that a guess is never confirmed is what ``test_name_filter_is_no_oracle`` checks)."""
    asked = urllib.parse.unquote_plus(request)
    return sorted({v for v in Fixture.personal_values() if v not in asked for f in forms(v) if f in body})
