"""Walk the brief's domain list and find each item in the schema registry."""

from __future__ import annotations

import pytest

from schema.tables import TABLES, personal_columns, synced_tables, table

# (brief item, table, column, enum values that must exist in that column)
CHECKLIST: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("1 roster category", "retirees", "category", ("lixiu", "county_level", "section_level", "general")),
    ("1 responsible unit", "retirees", "unit_id", ()),
    ("1 residence", "retirees", "residence_type", ()),
    ("1 address", "retirees", "address", ()),
    ("1 marital status incl. widowed", "retirees", "marital_status", ("widowed",)),
    ("1 family and children", "family_contacts", "relation", ("spouse", "son", "daughter")),
    ("1 health", "retirees", "health_status", ("chronic", "serious", "bedridden")),
    ("1 long-term hospitalised", "retirees", "hospitalised", ()),
    ("1 living alone", "retirees", "living_alone", ()),
    ("1 high age (from birth date)", "retirees", "birth_date", ()),
    ("1 disability", "retirees", "disabled", ()),
    ("1 lost only child", "retirees", "lost_only_child", ()),
    ("1 empty nest", "retirees", "empty_nest", ()),
    ("1 financial hardship", "retirees", "financial_hardship", ()),
    ("1 hobbies", "retirees", "hobbies", ()),
    ("1 personality", "retirees", "personality_notes", ()),
    ("1 party membership", "party_members", "branch_id", ()),
    ("1 ID number", "retirees", "id_number", ()),
    ("1 deceased", "retirees", "deceased_on", ()),
    ("1 dynamic history", "roster_history", "field", ()),
    ("2 monthly contact", "contacts", "with_whom", ("self", "family")),
    ("2 contact channel", "contacts", "channel", ("phone", "in_person")),
    ("3 six must-visits", "visits", "occasion",
     ("holiday_birthday", "illness", "hardship", "bereavement", "complaint", "new_leader")),
    ("3 material or spiritual", "visits", "kind", ("material", "spiritual")),
    ("3 policy conveyed", "visits", "policy_conveyed", ()),
    ("3 office pickup criticised", "visits", "mode", ("office_pickup",)),
    ("3 occasions as events", "life_events", "kind", ("hospitalised", "bereavement", "hardship", "complaint")),
    ("4 three musts", "three_musts", "kind", ("document", "meeting", "guidance")),
    ("4 three helps", "three_helps", "kind", ("interests", "hardship", "worries")),
    ("5 service menu", "service_menu", "item",
     ("group_study", "home_study", "counselling", "cultural_sports", "emotional_comfort", "health_care")),
    ("5 order status", "service_orders", "status", ("open", "assigned", "fulfilled", "cancelled")),
    ("5 order assignee", "service_orders", "assigned_to", ()),
    ("5 order fulfilled", "service_orders", "fulfilled_on", ()),
    ("5 satisfaction", "service_orders", "satisfaction", ()),
    ("5 community provider", "community_resources", "kind",
     ("meal_delivery", "love_supermarket", "neighbour_help", "merchant")),
    ("6 five-haves: site", "venues", "has_site", ()),
    ("6 five-haves: facilities", "venues", "has_facilities", ()),
    ("6 five-haves: books", "venues", "has_books", ()),
    ("6 five-haves: rules board", "venues", "has_rules_board", ()),
    ("6 five-haves: archive", "venues", "has_archive", ()),
    ("6 inspection date", "venues", "inspected_on", ()),
    ("6 four-nearby", "retirees", "four_nearby", ()),
    ("7 branches incl. special", "party_branches", "kind", ("regular", "special")),
    ("7 three meetings one lecture", "party_meetings", "kind", ("member_assembly", "committee", "group", "lecture")),
    ("7 democratic appraisal", "party_meetings", "kind", ("appraisal",)),
    ("7 attendance", "meeting_attendance", "status", ("present",)),
    ("7 appraisal rating", "meeting_attendance", "appraisal", ("qualified",)),
    ("7 study delivered home", "home_study", "member_id", ()),
    ("7 cannot attend", "retirees", "can_attend", ()),
    ("8 staff per unit", "staff", "unit_id", ()),
    ("8 contacts per staff", "contacts", "staff_id", ()),
    ("8 visits per staff", "visits", "staff_id", ()),
]


@pytest.mark.parametrize(("item", "tbl", "col", "values"), CHECKLIST, ids=[c[0] for c in CHECKLIST])
def test_domain_item_in_registry(item: str, tbl: str, col: str, values: tuple[str, ...]) -> None:
    c = table(tbl).column(col)
    assert c.zh and c.en
    if values:
        assert c.enum is not None
        assert set(values) <= set(c.enum.codes())


def test_every_synced_table_has_uuid_pk_and_scope() -> None:
    for t in synced_tables():
        assert t.pk == "id" and t.column("id").kind == "uuid", t.name
        if t.name != "service_menu":
            assert t.scope is not None, t.name


def test_labels_everywhere() -> None:
    for t in TABLES:
        assert t.zh and t.en and t.description, t.name
        for c in t.columns:
            assert c.zh and c.en, (t.name, c.name)
            if c.enum is not None:
                assert all(v.zh and v.en for v in c.enum.values), (t.name, c.name)


def test_personal_data_is_flagged() -> None:
    p = personal_columns()
    assert {"name", "id_number", "phone", "address", "birth_date", "health_status", "personality_notes"} <= set(
        p["retirees"])
    assert {"name", "phone", "address"} <= set(p["family_contacts"])
    assert "notes" in p["contacts"] and "notes" in p["visits"]
    assert "name" in p["staff"]
    for t in TABLES:
        for c in t.columns:
            if c.name in ("name", "phone", "address", "notes", "id_number") and t.name in (
                    "retirees", "family_contacts", "staff", "contacts", "visits", "life_events"):
                assert c.personal, (t.name, c.name)
