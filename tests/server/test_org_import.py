"""``laogan org``: a fresh server gets its unit tree, staff and menu from CSV, and tablets can enrol."""

from __future__ import annotations

import random
from pathlib import Path

import apsw
import pytest
from click.testing import CliRunner

from server import devices
from server.cli import main
from server.db import open_writer
from server.org_import import OrgImportError, ensure_menu, import_staff, import_units
from server.pull import build_page
from tests.conftest import NOW, make_db

UNITS = """单位代码,单位名称,单位层级,上级单位代码
530326101,金钟镇,乡镇,530326
530326,会泽县,县/区,
530326901,县财政局,部门,530326
"""


def _db(tmp_path: Path) -> apsw.Connection:
    return open_writer(make_db(tmp_path, with_org=False))


def _units(conn: apsw.Connection) -> dict[str, tuple[str, str, str | None]]:
    return {str(r[0]): (str(r[1]), str(r[2]), None if r[3] is None else str(r[3])) for r in conn.execute(
        "SELECT u.code, u.name, u.level, p.code FROM units u LEFT JOIN units p ON p.id = u.parent_id")}


def test_a_unit_tree_from_chinese_headers_parents_after_children(tmp_path: Path) -> None:
    conn = _db(tmp_path)
    r = import_units(conn, UNITS, actor="t", now=NOW, rng=random.Random(1))
    assert (r.inserted, r.updated, r.unchanged) == (3, 0, 0)
    assert _units(conn) == {"530326": ("会泽县", "county", None), "530326101": ("金钟镇", "township", "530326"),
                            "530326901": ("县财政局", "department", "530326")}
    # the rows reach a tablet's first pull: the import is ledgered and logged
    town = devices.unit_by_code(conn, "530326101")[0]
    page = build_page(conn, after=0, scope=devices.scope_units(conn, town), limit=100,
                      shared=devices.ancestor_units(conn, town))
    assert page.rows == 2  # the township and, shared from above, the county
    again = import_units(conn, UNITS.replace("金钟镇", "金钟街道"), actor="t", now=NOW, rng=random.Random(2))
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 2)
    assert _units(conn)["530326101"][0] == "金钟街道"
    assert conn.execute("SELECT count(*) FROM ledger WHERE kind = 'import'").fetchone()[0] == 2
    conn.close()


def test_units_keep_their_parent_and_are_never_moved(tmp_path: Path) -> None:
    """A file without parent codes keeps every known unit's parent; moving a known unit to another parent
    is refused (its rows are on the old parent's tablets, and nothing would take them off)."""
    conn = _db(tmp_path)
    import_units(conn, UNITS + "530327,巧家县,县/区,\n", actor="t", now=NOW, rng=random.Random(1))
    renamed = import_units(conn, "code,name,level\n530326101,金钟街道,township\n", actor="t", now=NOW,
                           rng=random.Random(2))
    assert (renamed.updated, _units(conn)["530326101"]) == (1, ("金钟街道", "township", "530326"))
    with pytest.raises(OrgImportError, match=r"line 2.*would no longer be lower"):  # a county made a township
        import_units(conn, "code,name,level\n530326,会泽县,township\n", actor="t", now=NOW, rng=random.Random(4))
    with pytest.raises(OrgImportError, match=r"line 2.*moving a unit"):
        import_units(conn, "code,name,level,parent_code\n530326101,金钟街道,township,530327\n", actor="t", now=NOW,
                     rng=random.Random(3))
    assert _units(conn)["530326101"][2] == "530326"
    conn.close()


@pytest.mark.parametrize(("text", "message"), [
    ("code,name,level,parent_code\n530326,会泽县,county,\n530326101,金钟镇,township,999\n", "line 3"),
    ("code,name,level,parent_code\n1,甲,county,2\n2,乙,county,1\n", "loop"),
    ("code,name,level,parent_code\n530326,会泽县,planet,\n", "line 2"),
    ("code,name,level,parent_code\n530326,会泽县,county,\n530326,又一个,county,\n", "duplicate unit code"),
    ("code,名字\n1,甲\n", "unknown column"),
    ("code,name,level,parent_code\n530326101,金钟镇,township,\n530326,会泽县,county,530326101\n", "higher level"),
    ("code,name,level,parent_code\n530326,会泽县,county,\n530326900,某局,department,530326\n"
     "530326901,某科,department,530326900\n", "line 4.*higher level"),
    ("code,name,level\n530326,,county\n", "line 2"),
])
def test_a_bad_units_file_is_refused_whole(tmp_path: Path, text: str, message: str) -> None:
    conn = _db(tmp_path)
    with pytest.raises(OrgImportError, match=message):
        import_units(conn, text, actor="t", now=NOW, rng=random.Random(1))
    assert conn.execute("SELECT count(*) FROM units").fetchone()[0] == 0
    conn.close()


def test_staff_by_unit_code_updated_by_name_and_ambiguity_refused(tmp_path: Path) -> None:
    conn = _db(tmp_path)
    import_units(conn, UNITS, actor="t", now=NOW, rng=random.Random(1))
    text = "单位代码,姓名,工作人员类型,电话\n530326101,王小红,专职,13900000001\n530326901,赵国强,兼职,\n"
    r = import_staff(conn, text, default_unit=None, actor="t", now=NOW, rng=random.Random(2))
    assert (r.inserted, r.updated, r.unchanged) == (2, 0, 0)
    rows = conn.execute("SELECT s.name, u.code, s.role, s.phone, s.active FROM staff s JOIN units u"
                        " ON u.id = s.unit_id ORDER BY s.name").fetchall()
    assert [tuple(x) for x in rows] == [("王小红", "530326101", "full_time", "13900000001", 1),
                                        ("赵国强", "530326901", "part_time", None, 1)]
    moved = import_staff(conn, "name,role,phone,active\n王小红,full_time,13900000002,0\n", default_unit="530326101",
                         actor="t", now=NOW, rng=random.Random(3))
    assert (moved.inserted, moved.updated, moved.unchanged) == (0, 1, 0)
    assert conn.execute("SELECT phone, active FROM staff WHERE name = '王小红'").fetchone() == ("13900000002", 0)
    # a file without the active column leaves it alone (she stays off duty)
    kept = import_staff(conn, "name,role\n王小红,full_time\n", default_unit="530326101", actor="t", now=NOW,
                        rng=random.Random(7))
    assert (kept.unchanged, conn.execute("SELECT active FROM staff WHERE name = '王小红'").fetchone()) == (1, (0,))
    import_staff(conn, "unit_code,name,role\n530326101,李明,full_time\n", default_unit=None, actor="t", now=NOW,
                 rng=random.Random(4))
    conn.execute("INSERT INTO staff (id, unit_id, name, role, active) SELECT '00000000-0000-4000-8000-0000000000aa',"
                 " unit_id, name, role, 1 FROM staff WHERE name = '李明'")
    with pytest.raises(OrgImportError, match=r"line 2.*give the id"):
        import_staff(conn, "unit_code,name,role\n530326101,李明,part_time\n", default_unit=None, actor="t", now=NOW,
                     rng=random.Random(5))
    with pytest.raises(OrgImportError, match=r"line 2.*no unit with code 999"):
        import_staff(conn, "unit_code,name,role\n999,某,full_time\n", default_unit=None, actor="t", now=NOW,
                     rng=random.Random(6))
    conn.close()


def test_the_menu_is_added_once(tmp_path: Path) -> None:
    conn = _db(tmp_path)
    assert ensure_menu(conn, actor="t", now=NOW, rng=random.Random(1)).inserted == 7
    assert ensure_menu(conn, actor="t", now=NOW, rng=random.Random(1)).inserted == 0
    assert [r[0] for r in conn.execute("SELECT item FROM service_menu ORDER BY sort_order")][:2] == [
        "group_study", "home_study"]
    conn.close()


def test_a_fresh_server_can_enrol_a_tablet_after_the_org_commands(tmp_path: Path) -> None:
    db = make_db(tmp_path, with_org=False)
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    (tmp_path / "staff.csv").write_text("unit_code,name,role\n530326101,王小红,full_time\n", encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(main, ["device", "enroll", "--unit", "530326101", "--db", str(db)])
    assert refused.exit_code != 0
    for args in (["org", "import-units", str(tmp_path / "units.csv")], ["org", "import-staff", str(tmp_path / "staff.csv")],
                 ["org", "init-menu"]):
        result = runner.invoke(main, [*args, "--db", str(db)])
        assert result.exit_code == 0, result.output
        assert "新增 inserted" in result.output
    enrolled = runner.invoke(main, ["device", "enroll", "--unit", "530326101", "--db", str(db)])
    assert enrolled.exit_code == 0, enrolled.output
