"""Chinese search: the segmented index holds whole words (jieba plus unit names) on the right pages."""

from __future__ import annotations

import json
import re

import pytest

from tests.reports_site.conftest import Built
from tests.reports_site.known import ORG

QUERIES = {
    "金钟镇": f"units/{ORG.town_a_code}.html",
    "娜姑镇": f"units/{ORG.town_b_code}.html",
    "县财政局": f"units/{ORG.dept_code}.html",
    "会泽县": "index.html",
    "方法说明": "methodology.html",
    "六必访": "methodology.html",
    "送学上门": "methodology.html",
    "丧偶": "index.html",
    "精神慰问": "index.html",
}


@pytest.fixture(scope="module")
def index(known_site: Built) -> dict[str, set[str]]:
    data = json.loads((known_site.site / "search" / "search_index.json").read_text(encoding="utf-8"))
    config = data["config"]
    assert config["lang"] == ["en"]  # lunr's own zh pack needs Node's jieba; segmentation happens at build
    assert "\\u200b" in config["separator"]
    assert config["pipeline"] == ["stemmer"]  # no trimmer: it would strip Chinese characters
    separator = re.compile(config["separator"])
    words: dict[str, set[str]] = {}
    for doc in data["docs"]:
        page = doc["location"].split("#")[0]
        text = re.sub(r"<[^>]+>", " ", doc["title"] + " " + doc["text"])
        for token in separator.split(text.lower()):
            if token:
                words.setdefault(token, set()).add(page)
    return words


@pytest.mark.parametrize(("query", "page"), sorted(QUERIES.items()))
def test_query_finds_page(index: dict[str, set[str]], query: str, page: str) -> None:
    assert page in index.get(query, set())


def test_unit_pages_are_indexed_by_their_header_only(index: dict[str, set[str]]) -> None:
    # place names lead to that place's page; the tables of unit pages are not indexed
    assert not any(p.startswith("units/") for p in index.get("丧偶", set()))
    assert index["金钟镇"] >= {f"units/{ORG.town_a_code}.html"}


def test_offline_index_is_the_same_index(known_site: Built) -> None:
    js = (known_site.site / "search" / "search_index.js").read_text(encoding="utf-8")
    assert js.startswith("var __index = ")
    assert json.loads(js[len("var __index = "):]) == json.loads(
        (known_site.site / "search" / "search_index.json").read_text(encoding="utf-8"))
