"""Nothing in the built site points at an outside host, and every page forbids it in the browser."""

from __future__ import annotations

import fnmatch
import gzip
import re

from reports_site.offline import ALLOWED, outside_urls, urls_in
from tests.reports_site.conftest import Built
from tests.reports_site.sitefiles import html_pages, site_files

URL = re.compile(rb"https?://[^\s\"'<>`)\\]*")
XMLNS = re.compile(rb"xmlns(?::[\w-]+)?=[\"']$")
CSP = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self' file: data: blob:"


def test_no_outside_urls(known_site: Built) -> None:
    assert outside_urls(known_site.site) == []


def test_every_url_is_a_namespace_or_a_justified_exception(known_site: Built) -> None:
    """An independent scan: each http(s) URL is an XML namespace name or in the documented list."""
    used: set[int] = set()
    for f in site_files(known_site.site):
        data = f.read_bytes()
        if f.suffix == ".gz":
            data = gzip.decompress(data)
        rel = f.relative_to(known_site.site).as_posix()
        for m in URL.finditer(data):
            if XMLNS.search(data[max(0, m.start() - 30): m.start()]):
                continue
            url = m.group(0).decode()
            hits = [i for i, a in enumerate(ALLOWED) if fnmatch.fnmatch(rel, a.files) and url.startswith(a.url)]
            assert hits, (rel, url)
            used.update(hits)
    assert used == set(range(len(ALLOWED)))  # no stale exceptions


def test_scanner_finds_outside_references() -> None:
    page = (b'<svg xmlns="http://www.w3.org/2000/svg"></svg><a href="https://example.org/x">x</a>'
            b'<script src="//cdn.example.net/a.js"></script><img src="http://127.0.0.1:8000/local.png">'
            b"<style>a{background:url(//fonts.example.com/f.woff)}</style>")
    assert urls_in(page) == ["https://example.org/x", "//cdn.example.net", "//fonts.example.com"]


def test_pages_forbid_other_hosts_before_loading_anything(known_site: Built) -> None:
    for page in html_pages(known_site.site):
        s = page.read_text(encoding="utf-8")
        head = s[: s.find("</head>")]
        assert CSP in head, page
        first_load = min(i for i in (head.find("<script"), head.find("<link rel=\"stylesheet\"")) if i >= 0)
        assert head.find(CSP) < first_load, page
        assert "fonts.googleapis" not in s and "fonts.gstatic" not in s


def test_unused_theme_files_are_pruned(known_site: Built) -> None:
    site = known_site.site
    assert not (site / "assets" / "javascripts" / "lunr").exists()
    assert not list(site.rglob("*.map"))
    assert not (site / "404.html").exists()
    assert (site / "assets" / "laogan" / "iframe-worker-shim.js").is_file()
    assert (site / "search" / "search_index.js").is_file()  # the offline plugin's inlined index
