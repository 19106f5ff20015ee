"""Three-musts notices (三必须事项) for the generated deliveries, and the link from each delivery to its notice.

The deliveries (:func:`server.seeddata.services.musts`) name their item in free text; here each item
becomes a notice and most deliveries point at it:

* an item that goes out in a given month (春节团拜会, 两会精神, 工作要点 …) is issued by the county for all
  its townships and departments; an item of no particular month (a pamphlet, a standing guidance) is
  issued for each unit on its own (also the city's own departments, which have no county above them);
* a notice is issued a few days before its first delivery and is due 30 days later (a meeting
  invitation: 14 days), so a unit that is slow to pass it on delivers late;
* it is due to the categories that get the item (:data:`services.DOCS_PER` …): a document the seed
  sends to county-level cadres and above is ``for_category`` ``county_level``;
* about one delivery in fourteen stays unlinked, free text only, as a tablet of version 3 records it.

Retirees who should have had an item and did not (the unit's ``musts_rate``) stay undelivered. This
module draws from its own generator, seeded by the county, so the rest of the data is the same as
without it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from schema import enums as E
from schema.tables import table
from server.seeddata import texts
from server.seeddata.common import Row, RowMaker, new_id
from server.seeddata.org import Chunk
from server.seeddata.services import DOCS_PER, GUIDES_PER, MEETINGS_PER

DUE_DAYS = {"document": 30, "meeting": 14, "guidance": 30}
UNLINKED = 1 / 14
_COLS = table("three_musts").column_names()
_UNIT, _ITEM, _DAY, _NOTICE = (_COLS.index(c) for c in ("unit_id", "item", "delivered_on", "notice_id"))
_CATEGORIES = E.CATEGORY.codes()  # highest first


def for_category(per: tuple[tuple[str, int], ...], index: int) -> str:
    """The lowest category that gets item ``index`` of its kind (``general``: every category does)."""
    return [c for c in _CATEGORIES if dict(per)[c] > index][-1]


def _items(years: set[int]) -> dict[str, tuple[str, str, int]]:
    """Each item title as it appears in the window -> (kind, for_category, month it goes out)."""
    per = {"document": DOCS_PER, "meeting": MEETINGS_PER, "guidance": GUIDES_PER}
    out: dict[str, tuple[str, str, int]] = {}
    for kind, options in texts.MUST_ITEMS:
        for i, (item, month) in enumerate(options):
            if dict(per[kind])[_CATEGORIES[0]] > i:
                for y in years:
                    out[item.format(y=y)] = (kind, for_category(per[kind], i), month)
    return out


def link(c: Chunk, musts: list[Row], mk: RowMaker, years: set[int]) -> tuple[list[Row], list[Row]]:
    """The chunk's notices, and its deliveries with ``notice_id`` set on most of them (in the same order)."""
    rng = random.Random(f"notices:{c.head.id}")
    items = _items(years)
    county = c.head.id if c.head.level == "county" else None
    first: dict[tuple[str, str], str] = {}
    for r in musts:
        month = items[str(r[_ITEM])][2]
        key = (county if county and month else str(r[_UNIT]), str(r[_ITEM]))
        if key not in first or str(r[_DAY]) < first[key]:
            first[key] = str(r[_DAY])
    ids: dict[tuple[str, str], str] = {}
    notices: list[Row] = []
    for (unit_id, title), day in sorted(first.items()):
        kind, category, _ = items[title]
        issued = date.fromisoformat(day) - timedelta(days=int(rng.random() * 5))
        ids[(unit_id, title)] = new_id(rng)
        notices.append(mk(id=ids[(unit_id, title)], unit_id=unit_id, kind=kind, title=title, issued_on=issued.isoformat(),
                          due_by=(issued + timedelta(days=DUE_DAYS[kind])).isoformat(), for_category=category))
    linked: list[Row] = []
    for r in musts:
        month = items[str(r[_ITEM])][2]
        key = (county if county and month else str(r[_UNIT]), str(r[_ITEM]))
        nid: str | None = None if rng.random() < UNLINKED else ids[key]
        linked.append((*r[:_NOTICE], nid, *r[_NOTICE + 1:]))
    return notices, linked
