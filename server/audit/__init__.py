"""The auditors' Datasette (审计查询): read-only, logged in, with two roles.

::

    names.py       database names, SQL function names, cookie and path names
    masking.py     the masked views an ``auditor`` sees (surname + **, age bands, no personal columns)
    metadata.py    Datasette metadata (Chinese titles, column and enum labels) built from the registry
    sqlbits.py     SQL fragments the queries share: unit scope, month, Chinese labels, who-is-shown by role
    queries*.py    the canned oversight queries (practice, operations), one SQL text per role
    policy.py      who may do what: the one permission decision, total (never "no opinion")
    users.py       per-auditor credentials: add, revoke, list, check (secrets hashed at rest)
    auth.py        request authentication: Bearer tokens and signed session cookies
    accesslog.py   the access log: its own database file and its one writer thread
    ledgercheck.py ``laogan_ledger_verify()``: ``ledger verify`` as a SQL function
    pages.py       the login form and the "please log in" answers
    errors.py      error pages without Datasette's console dump of local variables
    plugin.py      the Datasette plugin object: hooks and the ASGI wrapper that logs every request
    app.py         ``build_audit_app(config, clock=..., secret=...)``: the Datasette instance
    bench.py       ``bench_canned_queries(db_path)`` for ``make bench``

The design and every closed path are described in ``docs/audit.md``.
"""
