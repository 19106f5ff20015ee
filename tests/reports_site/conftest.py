"""Fixtures of the report-site tests: the known-answer database and one site built from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from reports_site.build import BuildResult, build_site
from tests.reports_site.known import AS_OF, make_known_db


@dataclass(frozen=True)
class Built:
    db: Path
    site: Path
    result: BuildResult


@pytest.fixture(scope="session")
def known_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_known_db(tmp_path_factory.mktemp("known"))


@pytest.fixture(scope="session")
def known_site(known_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The site built once from :func:`known_db` (tests only read it)."""
    out = tmp_path_factory.mktemp("known-site") / "site"
    return Built(known_db, out, build_site(known_db, out, as_of=AS_OF))
