"""HTML fragments carried through Markdown untouched, inside a marker comment.

Python-Markdown reads an HTML comment as a single token, so a page's tables cost nothing in the
Markdown step; the build's MkDocs plugin calls :func:`unwrap_html` on each page's HTML right after.
"""

from __future__ import annotations

import re

_HTML_OPEN = "<!--lg-html "
_HTML_CLOSE = " lg-html-->"
_WRAPPED = re.compile(re.escape(_HTML_OPEN) + "(.*?)" + re.escape(_HTML_CLOSE), re.S)


def wrap_html(fragment: str) -> str:
    """Hide an HTML fragment from Markdown; escaped text can never contain the comment's end."""
    if "-->" in fragment:
        raise ValueError("fragment would end the comment early")
    return f"{_HTML_OPEN}{fragment}{_HTML_CLOSE}"


def unwrap_html(page_html: str) -> str:
    """Put the fragments hidden by :func:`wrap_html` back, after Markdown has run."""
    return _WRAPPED.sub(lambda m: m.group(1), page_html)
