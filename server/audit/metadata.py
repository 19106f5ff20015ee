"""Datasette metadata built from the registry: titles, descriptions, column and enum labels, queries.

Nothing here lists a table or a column by hand: tables come from ``schema.tables``, masked views from
:mod:`server.audit.masking`, the access log from ``schema.audit_tables``, queries from
:mod:`server.audit.queries`.
"""

from __future__ import annotations

from typing import Any

from schema.audit_tables import AUDIT_LOG_TABLES
from schema.model import Column, Table
from schema.tables import tables_for
from server.audit.masking import MaskedView, masked_views
from server.audit.names import ACCESS_LOG, CENTRAL, MASKED, ROLE_KEY
from server.audit.queries import canned_queries

TITLE = "老干部精准化服务 · 审计查询"
DESCRIPTION = ("离退休干部服务数据的只读审计入口(laogan audit)。审计人员只能看到脱敏视图和脱敏版监督查询;"
               "高级审计人员可以查看中心数据库全部内容、执行只读 SQL、查看访问日志。每次访问都有记录。")


def enum_text(c: Column) -> str:
    if c.enum is None:
        return ""
    return " · 取值 values: " + ";".join(f"{v.code}={v.zh}" for v in c.enum.values)


def column_description(c: Column, note: str = "") -> str:
    text = f"{c.zh} ({c.en})"
    if c.personal and not note:
        text += " · 个人信息,仅高级审计人员可见 (personal data)"
    if note:
        text += f" · {note}"
    if c.references:
        text += f" · 引用 references {c.references}"
    return text + enum_text(c)


def table_metadata(t: Table) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "title": f"{t.zh} ({t.en})",
        "description": t.description + (" 含个人信息字段。" if t.personal_columns() else ""),
        "columns": {c.name: column_description(c) for c in t.columns},
    }
    if t.append_only:
        meta["sort_desc"] = t.pk
    return meta


def view_metadata(v: MaskedView) -> dict[str, Any]:
    dropped = [c.zh for c in v.table.columns if c.name not in {m.source.name for m in v.columns}]
    gone = f" 已去除:{'、'.join(dropped)}。" if dropped else ""
    return {
        "title": f"{v.table.zh}(脱敏) ({v.table.en}, masked)",
        "description": f"{v.table.description}(脱敏视图,实时读取中心数据库。){gone}",
        "columns": {m.name: column_description(m.source, m.note) for m in v.columns},
    }


SENIOR_ONLY = {ROLE_KEY: "senior"}
ANY_ROLE = {ROLE_KEY: ["auditor", "senior"]}


def build_metadata() -> dict[str, Any]:
    """The whole metadata dictionary for :func:`server.audit.app.build_audit_app`.

    The ``allow`` and ``allow_sql`` blocks repeat the database-level rules of
    :class:`server.audit.policy.Policy` for Datasette's own permission check: should our hook ever be
    missing, anonymous visitors, SQL by auditors, and ``central``/``access_log`` for auditors stay closed.
    """
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "allow": ANY_ROLE,
        "allow_sql": SENIOR_ONLY,
        "databases": {
            CENTRAL: {
                "allow": SENIOR_ONLY,
                "allow_sql": SENIOR_ONLY,
                "title": "中心数据库(只读,含个人信息)",
                "description": "服务器中心数据库的实时只读视图,仅高级审计人员可见。",
                "tables": {t.name: table_metadata(t) for t in tables_for("central")},
                "queries": {q.name: q.metadata() for q in canned_queries("senior")},
            },
            MASKED: {
                "allow": ANY_ROLE,
                "allow_sql": SENIOR_ONLY,
                "title": "脱敏审计库",
                "description": "中心数据库的脱敏视图:姓名只保留姓氏,出生日期换为5岁年龄段,身份证号、电话、住址、"
                               "健康情况和文字记录均不显示。",
                "tables": {v.name: view_metadata(v) for v in masked_views()},
                "queries": {q.name: q.metadata() for q in canned_queries("auditor")},
            },
            ACCESS_LOG: {
                "allow": SENIOR_ONLY,
                "allow_sql": SENIOR_ONLY,
                "title": "审计访问日志",
                "description": "审计服务收到的每个请求,仅高级审计人员可见。",
                "tables": {t.name: table_metadata(t) for t in AUDIT_LOG_TABLES},
            },
        },
    }
