"""The built site must never make a request to an outside host; this finds every URL that could.

:func:`outside_urls` lists each ``http://``/``https://`` (and protocol-relative ``//host``) reference in
every built file, gzip files included, except:

* XML namespace names (``xmlns="http://www.w3.org/2000/svg"``, the sitemap's namespace): identifiers
  that browsers never fetch;
* hosts that are this machine (localhost, 127.0.0.1, ::1);
* the :data:`ALLOWED` strings inside Material for MkDocs' own bundled files, each with the reason it is
  never fetched with our configuration. On top of that, every page carries a Content-Security-Policy
  (``default-src 'self' ...``) that makes the browser refuse any request to another host.

Files the site never uses (the lunr language packs, source maps) are removed by :func:`prune`.
"""

from __future__ import annotations

import fnmatch
import gzip
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

_SCHEME_URL = re.compile(rb"[hH][tT][tT][pP][sS]?://([A-Za-z0-9.\-\[\]:]*)[^\s\"'<>`)\\]*")
_RELATIVE = re.compile(rb"(?:=|url\()[\"']?//([A-Za-z0-9.\-]+)")
"""Protocol-relative references (``src="//cdn..."``, ``url(//...)``): they fetch from another host too."""
_XMLNS_BEFORE = re.compile(rb"xmlns(?::[A-Za-z0-9_\-]+)?\s*=\s*[\"']$")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


@dataclass(frozen=True)
class Allowed:
    files: str
    """Glob of site-relative paths."""
    url: str
    """The URL (prefix) allowed there."""
    reason: str


ALLOWED: tuple[Allowed, ...] = (
    Allowed("assets/stylesheets/main.*.min.css", "https://fontawesome.com",
            "licence comment inside an inline (data:) icon; comments are never fetched"),
    Allowed("assets/javascripts/bundle.*.min.js", "https://api.github.com/",
            "GitHub repository facts, fetched only when mkdocs.yml sets repo_url; it sets none"),
    Allowed("assets/javascripts/bundle.*.min.js", "https://${e}/api/v4/projects/",
            "GitLab repository facts (a URL template), fetched only when mkdocs.yml sets repo_url; it sets none"),
    Allowed("assets/javascripts/bundle.*.min.js", "https://unpkg.com/mermaid",
            "loaded only for pages with Mermaid diagrams; we write none"),
    Allowed("assets/javascripts/bundle.*.min.js", "https://unpkg.com/resize-observer-polyfill",
            "loaded only by browsers without ResizeObserver (none supported by Material)"),
    Allowed("assets/javascripts/bundle.*.min.js", "https://clipboardjs.com",
            "licence comment"),
    Allowed("assets/javascripts/workers/search.*.min.js", "http://lunrjs.com", "licence comment"),
    Allowed("assets/javascripts/workers/search.*.min.js", "http://tartarus.org", "licence comment"),
    Allowed("assets/javascripts/workers/search.*.min.js", "https://bit.ly",
            "text of a console warning about malformed queries, never fetched"),
)
PRUNE = ("assets/javascripts/lunr", "*.map", "404.html")
"""Files the site never uses: lunr language packs (search runs with lang ``en`` plus jieba segmentation
done at build time), source maps, and MkDocs' 404 page (its links are absolute, so it only works at a
web root; a static server falls back to its own "not found" instead)."""


def prune(site: Path) -> None:
    """Remove the files in :data:`PRUNE` from a built site."""
    for pattern in PRUNE:
        if "*" not in pattern:
            target = site / pattern
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            continue
        for f in sorted(site.rglob(pattern)):
            f.unlink()


def _local(host: bytes) -> bool:
    h = host.decode("ascii", "replace").lower()
    h = h.split("]")[0] + "]" if h.startswith("[") else h.split(":")[0]
    return h in LOCAL_HOSTS


def urls_in(data: bytes) -> list[str]:
    """Outside-host URLs referenced in ``data`` (XML namespace names left out)."""
    found: list[bytes] = []
    if b"://" in data:
        for m in _SCHEME_URL.finditer(data):
            if not _local(m.group(1)) and not _XMLNS_BEFORE.search(data, max(0, m.start() - 40), m.start()):
                found.append(m.group(0))
    if b"//" in data:
        found += [b"//" + m.group(1) for m in _RELATIVE.finditer(data) if not _local(m.group(1))]
    return [u.decode("utf-8", "replace") for u in found]


def outside_urls(site: Path) -> list[tuple[str, str]]:
    """(file, url) for every reference to an outside host not in :data:`ALLOWED`."""
    bad: list[tuple[str, str]] = []
    for f in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = f.relative_to(site).as_posix()
        data = f.read_bytes()
        if f.suffix == ".gz":
            data = gzip.decompress(data)
        for url in urls_in(data):
            if not any(fnmatch.fnmatch(rel, a.files) and url.startswith(a.url) for a in ALLOWED):
                bad.append((rel, url))
    return bad
