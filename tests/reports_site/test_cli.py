"""``reports build`` through click: success, progress on stderr, and clear errors with stable codes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from reports_site.cli import reports
from tests.reports_site.conftest import Built


def test_build_command(known_site: Built, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(reports, ["build", "--db", str(known_site.db), "--out", str(out),
                                          "--as-of", "2026-10"])
    assert result.exit_code == 0, result.output
    assert "报告网站 report site" in result.stdout and "4 个单位页面" in result.stdout
    assert "MkDocs" in result.stderr and "披露控制" in result.stderr  # progress goes to stderr
    assert (out / "index.html").is_file()
    again = CliRunner().invoke(reports, ["build", "--db", str(known_site.db), "--out", str(out),
                                         "--as-of", "2026-10"])
    assert again.exit_code == 0, again.output  # a previous site is replaced


def test_bad_month_is_a_clear_error(known_site: Built, tmp_path: Path) -> None:
    result = CliRunner().invoke(reports, ["build", "--db", str(known_site.db), "--out", str(tmp_path / "s"),
                                          "--as-of", "2026-13"])
    assert result.exit_code == 1
    assert "[bad_as_of]" in result.stderr
    assert not (tmp_path / "s").exists()


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(reports, ["build", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert "[no_database]" in result.stderr


def test_refuses_to_replace_a_directory_that_is_not_a_site(known_site: Built, tmp_path: Path) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(reports, ["build", "--db", str(known_site.db), "--out", str(precious),
                                          "--as-of", "2026-10"])
    assert result.exit_code == 1
    assert "[report_error]" in result.stderr
    assert (precious / "thesis.txt").read_text(encoding="utf-8") == "keep me"


def test_help() -> None:
    for args in (["--help"], ["build", "--help"]):
        result = CliRunner().invoke(reports, args)
        assert result.exit_code == 0 and "Usage:" in result.output
    assert all(p.help for p in reports.commands["build"].params if p.name != "help")
