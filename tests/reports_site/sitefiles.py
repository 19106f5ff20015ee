"""Reading a built site back: every file's text as a reader (or a search index) would see it."""

from __future__ import annotations

import gzip
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

_TAG = re.compile(r"<[^>]+>")


def site_files(site: Path) -> Iterator[Path]:
    yield from sorted(p for p in site.rglob("*") if p.is_file())


def readable_text(path: Path) -> str:
    """The file's content with gzip, JSON escapes, HTML entities and search segmentation undone."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    text = data.decode("utf-8", "replace")
    if path.suffix == ".json":
        text = json.dumps(json.loads(text), ensure_ascii=False)
    if path.name == "search_index.js":
        text = json.dumps(json.loads(text.split("=", 1)[1]), ensure_ascii=False)
    return html.unescape(text).replace("\u200b", "")


def article_text(page: Path) -> str:
    """The visible text of a page's main content."""
    s = page.read_text(encoding="utf-8")
    body = s[s.find("<article"): s.find("</article>")]
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", body))).strip()


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))
