"""``laogan notice``: a supervisor issues three-musts notices; each is one ledger entry and reaches the pulls."""

from __future__ import annotations

import json
from pathlib import Path

import apsw
import pytest
from click.testing import CliRunner

from server.cli import main
from tests.conftest import Org, make_db

ORG = Org()
ISSUE = ["notice", "add", "--unit", ORG.county_code, "--kind", "document", "--title", "市委老干部局2026年工作要点",
         "--issued", "2026-03-01", "--due", "2026-03-31"]


def _run(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--db", str(db)])
    return result.exit_code, result.output


def _counts(db: Path) -> tuple[int, int, int]:
    conn = apsw.Connection(str(db))
    try:
        row = conn.execute("SELECT (SELECT count(*) FROM notices), (SELECT count(*) FROM ledger),"
                           " (SELECT count(*) FROM change_log)").fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])
    finally:
        conn.close()


def test_add_issues_a_ledgered_notice_that_reaches_the_change_log(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    before = _counts(db)
    code, out = _run(db, *ISSUE, "--for-category", "county_level", "--by", "张科长")
    assert code == 0, out
    assert "已下发 issued" in out and "文件必须送到《市委老干部局2026年工作要点》 2026-03-01 → 2026-03-31" in out
    conn = apsw.Connection(str(db))
    row = conn.execute("SELECT id, unit_id, kind, title, issued_on, due_by, for_category FROM notices").fetchone()
    assert row is not None and tuple(row)[1:] == (ORG.county, "document", "市委老干部局2026年工作要点", "2026-03-01",
                                                  "2026-03-31", "county_level")
    assert str(row[0]) in out
    entry = conn.execute("SELECT kind, actor, summary, effect IS NOT NULL FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
    assert entry is not None and tuple(entry)[:2] == ("admin", "notice:张科长") and entry[3] == 1
    assert json.loads(str(entry[2])) == {"event": "notice issued", "notice_id": str(row[0]), "unit_id": ORG.county,
                                         "kind": "document", "due_by": "2026-03-31"}
    assert conn.execute("SELECT tbl, row_id, unit_id FROM change_log ORDER BY seq DESC LIMIT 1").fetchone() == (
        "notices", row[0], ORG.county)
    last, prev = conn.execute("SELECT prev_hash, hash FROM ledger ORDER BY id DESC LIMIT 2").fetchall()
    assert last[0] == prev[1]  # chained to the entry before it
    conn.close()
    assert _counts(db) == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_list_shows_a_units_notices_and_those_above_it(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    assert _run(db, *ISSUE)[0] == 0
    assert _run(db, "notice", "add", "--unit", ORG.town_a_code, "--kind", "meeting", "--title", "金钟镇老干部座谈会",
                "--issued", "2026-04-01", "--due", "2026-04-10")[0] == 0
    code, out = _run(db, "notice", "list", "--unit", ORG.town_b_code)
    assert code == 0 and "市委老干部局2026年工作要点" in out and "金钟镇老干部座谈会" not in out  # B sees the county's only
    code, out = _run(db, "notice", "list", "--unit", ORG.town_a_code)
    lines = out.splitlines()[1:]
    assert [line.split()[-1] for line in lines] == ["金钟镇老干部座谈会", "市委老干部局2026年工作要点"]  # latest due first
    code, out = _run(db, "notice", "list")
    assert len(out.splitlines()) == 3


@pytest.mark.parametrize(("change", "code", "words"), [
    ({"--unit": "999999"}, "unknown_unit", "没有代码为 999999 的单位"),
    ({"--issued": "2026-02-30"}, "invalid_value", "下发日期"),
    ({"--due": "31/03/2026"}, "invalid_value", "送达期限"),
    ({"--due": "2026-02-28"}, "due_before_issued", "送达期限 2026-02-28 早于下发日期 2026-03-01"),
    ({"--title": "  "}, "invalid_value", "标题不能为空"),
    ({"--title": "第一行\n第二行"}, "invalid_value", "标题须为一行"),
    ({"--title": "长" * 201}, "invalid_value", "不超过200个字符"),
])
def test_bad_input_is_refused_with_its_code_and_changes_nothing(tmp_path: Path, change: dict[str, str], code: str,
                                                                words: str) -> None:
    db = make_db(tmp_path)
    before = _counts(db)
    args = list(ISSUE)
    for opt, value in change.items():
        args[args.index(opt) + 1] = value
    exit_code, out = _run(db, *args)
    assert exit_code == 1
    assert f"[{code}]" in out and words in out
    assert _counts(db) == before


def test_unknown_kind_is_a_usage_error(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    args = list(ISSUE)
    args[args.index("--kind") + 1] = "visit"
    exit_code, out = _run(db, *args)
    assert exit_code == 2 and "'visit' is not one of 'document', 'meeting', 'guidance'" in out
    assert _counts(db)[0] == 0
