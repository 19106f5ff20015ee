"""Databases with little or nothing in them still build, or fail with a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports_site.build import build_site
from reports_site.errors import BadAsOf
from reports_site.period import Period
from tests.conftest import make_db


def test_units_without_people_build(tmp_path: Path) -> None:
    result = build_site(make_db(tmp_path), tmp_path / "site", as_of="2026-10")
    assert result.units == 4 and result.primary == result.secondary == 0
    assert (tmp_path / "site" / "index.html").is_file()


def test_no_units_at_all_builds_an_empty_overview(tmp_path: Path) -> None:
    result = build_site(make_db(tmp_path, with_org=False), tmp_path / "site", as_of="2026-10")
    assert result.units == 1 and (tmp_path / "site" / "methodology.html").is_file()


def test_no_activity_needs_a_month(tmp_path: Path) -> None:
    with pytest.raises(BadAsOf, match="--as-of"):
        build_site(make_db(tmp_path), tmp_path / "site")
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-10", "2026/10", "", "1899-12"])
def test_bad_months(text: str) -> None:
    with pytest.raises(BadAsOf):
        Period.parse(text)
