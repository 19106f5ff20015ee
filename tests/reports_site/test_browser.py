"""A real browser (headless Chromium) opens the built site from disk and over local HTTP: the Chinese
pages render, and a Chinese search returns the right page."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image

from tests.reports_site.cdp import Browser
from tests.reports_site.conftest import Built
from tests.reports_site.known import ORG

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def chromium() -> str:
    found = next((p for p in map(shutil.which, BROWSERS) if p), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("headless Chromium is required in CI (apt-get install -y chromium)")
        pytest.skip("headless Chromium not installed (apt-get install -y chromium fonts-noto-cjk)")
    return found


def run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def dark_share(png: Path) -> float:
    """Share of non-white pixels in the content column of a screenshot."""
    img = Image.open(png).convert("L")
    w, h = img.size
    box = img.crop((w // 5, 60, w * 3 // 4, min(h, 1400)))
    dark = sum(1 for p in box.tobytes() if p < 200)
    return dark / (box.size[0] * box.size[1])


@pytest.fixture(scope="module")
def http_site(known_site: Built) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(known_site.site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_chinese_fonts_are_installed() -> None:
    if shutil.which("fc-list") is None:
        pytest.skip("fontconfig not installed")
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    if not fonts.strip() and not os.environ.get("CI"):
        pytest.skip("no Chinese font (apt-get install -y fonts-noto-cjk): Chinese would render as boxes")
    assert fonts.strip(), "no Chinese font installed (fonts-noto-cjk)"


@pytest.mark.parametrize("page", ["index.html", f"units/{ORG.town_a_code}.html"])
def test_pages_render_from_disk(chromium: str, known_site: Built, tmp_path: Path, page: str) -> None:
    png = tmp_path / "shot.png"
    url = (known_site.site / page).as_uri()
    result = run(chromium, tmp_path / "profile", f"--screenshot={png}", "--window-size=1280,1600",
                 "--virtual-time-budget=5000", url)
    assert png.is_file(), result.stderr[-2000:]
    assert dark_share(png) > 0.02  # text, tables and the chart, not a blank page
    dom = run(chromium, tmp_path / "profile2", "--virtual-time-budget=5000", "--dump-dom", url).stdout
    assert "离退休干部" in dom and "月度趋势" in dom


RESULTS = ("Array.from(document.querySelectorAll('.md-search-result__item a.md-search-result__link'))"
           ".map(a => [a.getAttribute('href'), a.querySelector('h1') ? a.querySelector('h1').innerHTML : ''])")


@pytest.mark.parametrize("where", ["file", "http"])
def test_chinese_search_returns_the_unit(chromium: str, known_site: Built, http_site: str, tmp_path: Path,
                                        where: str) -> None:
    base = known_site.site.as_uri() if where == "file" else http_site
    browser = Browser(chromium, tmp_path / "profile")
    try:
        browser.open(f"{base}/index.html?q={quote('金钟镇')}")  # Material's search reads ?q=
        found = browser.wait_for(f"(() => {{ const r = {RESULTS}; return r.length ? r : null; }})()")
    finally:
        browser.close()
    href, title = found[0]
    assert f"units/{ORG.town_a_code}.html" in href
    assert "<mark>金钟镇</mark>" in title
