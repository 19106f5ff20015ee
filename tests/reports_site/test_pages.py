"""Values → Markdown: names are inert text, tables survive Markdown untouched, serving options."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports_site.disclosure import Disclosure
from reports_site.htmlblock import unwrap_html, wrap_html
from reports_site.indicators import Values
from reports_site.methodology import LedgerHead
from reports_site.pages import SiteData, esc, table, text, unit_page
from reports_site.period import Period
from reports_site.serve import MOUNT, default_site_dir, static_files_options
from reports_site.units import Unit, UnitTree

NASTY = "<script>alert(1)</script>|*x*_[a](b){#id}`-->"


def _data(name: str) -> SiteData:
    units = {"r": Unit("r", "1", "全市", "city", None, 0), "u": Unit("u", "2", name, "township", "r", 1)}
    tree = UnitTree("r", units, {"r": ("u",)}, {"r": "1", "u": "2"})
    values = {"r": Values(), "u": Values()}
    return SiteData(tree, values, Disclosure({}), Period("2026-10"), LedgerHead(0, "0" * 64, None), "报告")


def test_names_cannot_inject_markup() -> None:
    md = unit_page(_data(NASTY), "u")
    assert "<script>" not in md and "-->" not in md.replace(" lg-html-->", "")
    assert text(NASTY).count("<") == 0 and "|" not in text(NASTY)
    parent = unit_page(_data(NASTY), "r")
    assert esc(NASTY) in unwrap_html(parent)  # the children table holds the escaped name


def test_tables_are_hidden_from_markdown_and_restored_after() -> None:
    block = table(["单位", "人数"], [["甲<乙", "<10"], ["丙", "12"]])[0]
    assert block.startswith("<!--") and block.endswith("-->")
    html = unwrap_html(f"<p>前</p>\n{block}\n<p>后</p>")
    assert "<td>甲&lt;乙</td><td>&lt;10</td>" in html and "<!--" not in html
    with pytest.raises(ValueError):
        wrap_html("<p>--></p>")


def test_static_files_options(tmp_path: Path) -> None:
    opts = static_files_options(default_site_dir(tmp_path))
    assert opts["path"] == MOUNT == "/reports" and opts["html_mode"] is True
    assert opts["directories"] == [tmp_path / "site"]
