"""Benchmarks against the physical limit: ``make bench`` (``python -m tests.bench``).

Every figure is a ratio against a baseline measured in the same run on the same machine (raw SQLite
apply, raw apsw writes, the server's own ``/v1/health``, a bare ``mkdocs build``), so a result holds
on a noisy shared machine; the absolute numbers are printed beside it. Tests never assert on time:
this package is run by hand or by ``make bench``, never by pytest (no ``test_`` modules here).

One module per benchmark; each exposes ``run(ctx) -> list[Result]``. See ``docs/benchmarks.md``.
"""
