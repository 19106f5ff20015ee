"""Roster import: validated whole-file, ledgered, history kept; bad input named in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from server.db import open_reader
from server.ledger_audit import verify
from server.settings import Settings
from tests.conftest import REPO, Org

GOOD = """姓名,性别,出生日期,身份证号,人员类别,婚姻情况,独居,单位代码
李建国,男,1935-02-03,530326193502031234,离休干部,丧偶,是,530326101
王秀英,female,1948-07-09,530326194807091246,general,married,0,530326102
"""


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"LAOGAN_DATA_DIR": str(settings.data_dir), "LAOGAN_DB": str(settings.db_path),
           "LAOGAN_KEYS_DIR": str(settings.keys_dir), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "server", *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=120)


def test_import_insert_then_update_with_history(server_settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "roster.csv"
    f.write_text(GOOD, encoding="utf-8")
    r = _run(server_settings, "roster", "import", str(f))
    assert r.returncode == 0, r.stderr
    assert "inserted 2" in r.stdout
    f.write_text(GOOD.replace("丧偶,是", "丧偶,否"), encoding="utf-8")
    r = _run(server_settings, "roster", "import", str(f))
    assert "updated 1" in r.stdout and "unchanged 1" in r.stdout
    conn = open_reader(server_settings.db_path)
    rows = conn.execute("SELECT name, category, marital_status, living_alone, unit_id FROM retirees ORDER BY name"
                        ).fetchall()
    assert rows == [("李建国", "lixiu", "widowed", 0, Org().town_a), ("王秀英", "general", "married", 0, Org().town_b)]
    assert conn.execute("SELECT field, old_value, new_value FROM roster_history").fetchall() == [
        ("living_alone", "1", "0")]
    assert conn.execute("SELECT kind FROM ledger ORDER BY id DESC LIMIT 1").fetchone() == ("import",)
    from schema.keys import load_public_keys

    assert verify(conn, load_public_keys(server_settings.keys_dir)[0]).ok
    conn.close()


def test_bad_value_refuses_whole_file_in_one_line(server_settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(GOOD + "张三,男,1950-13-01,530326195013011234,general,married,0,530326101\n", encoding="utf-8")
    r = _run(server_settings, "roster", "import", str(f))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "line 4" in lines[0] and "retirees.birth_date" in lines[0] and "1950-13-01" in lines[0]
    f.write_text(GOOD.replace("离休干部", "退休"), encoding="utf-8")
    r = _run(server_settings, "roster", "import", str(f))
    assert r.returncode == 1 and "retirees.category" in r.stderr and "退休" in r.stderr
    f.write_text(GOOD.replace("530326102", "999"), encoding="utf-8")
    assert _run(server_settings, "roster", "import", str(f)).returncode == 1
    conn = open_reader(server_settings.db_path)
    assert conn.execute("SELECT count(*) FROM retirees").fetchone() == (0,)
    conn.close()
