"""The public service-report site (公开服务报告): aggregates only, no personal data.

::

    central DB (read-only) ──indicators──► values per unit ──disclosure──► suppressed cells
        ──pages/charts──► Markdown + SVG in a work dir ──build (MkDocs, Material)──► static site

* :func:`reports_site.build.build_site` — the whole pipeline (``laogan reports build``).
* :func:`reports_site.serve.static_files_options` — how ``laogan serve`` mounts the latest build.
* :func:`reports_site.bench.bench_reports` — timings against a bare ``mkdocs build`` baseline.

This package reads the central database through :func:`server.db.open_sqlite3_readonly` only and
never imports ``sync`` or ``litestar``.
"""
