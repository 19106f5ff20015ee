"""Tables of the auditors' Datasette: credentials (central database) and the access log (its own file).

``AUDIT_TABLES`` are created in the central database by the migrations like every other table.
``AUDIT_LOG_TABLES`` live in a separate file, ``audit_log.db``, written only by the audit service's log
thread (see ``docs/audit.md``): the audited database is never written by auditing. They are kept here,
beside the credentials, so their labels and DDL still come from one registry record each.
"""

from __future__ import annotations

from schema.columns import choice, integer, text
from schema.enums import _enum
from schema.model import Column, Index, Table

AUDIT_ROLE = _enum(
    "audit_role", "审计角色", "audit role",
    ("auditor", "审计人员(只看脱敏数据)", "auditor (masked data only)"),
    ("senior", "高级审计人员(可见个人信息、可执行SQL)", "senior auditor (personal data, SQL)"),
)


def _seq() -> Column:
    return Column("id", "int", "序号", "sequence number", required=True)


def _ts(name: str, zh: str, en: str, *, required: bool = False) -> Column:
    return Column(name, "datetime", zh, en, required=required)


AUDIT_USERS = Table(
    "audit_users", "审计账号", "audit users",
    "审计、纪检人员登录 Datasette 的凭据(只存密钥哈希)、角色、有效期和吊销时间。",
    (
        _seq(),
        text("name", "账号", "name", required=True, unique=True),
        choice("role", AUDIT_ROLE),
        text("secret_hash", "密钥哈希", "secret hash", required=True),
        _ts("created_at", "创建时间", "created at", required=True),
        _ts("expires_at", "过期时间", "expires at"),
        _ts("revoked_at", "吊销时间", "revoked at"),
    ),
    sync="server",
)

ACCESS_LOG = Table(
    "audit_access_log", "审计访问日志", "audit access log",
    "审计服务收到的每个请求:谁、何时、访问了什么、结果如何。写在独立文件 audit_log.db 中,仅高级审计人员可读。",
    (
        _seq(),
        _ts("at", "访问时间", "at", required=True),
        text("actor", "访问者账号", "who (account)"),
        choice("role", AUDIT_ROLE, "访问者角色", "role", required=False),
        text("method", "请求方法", "HTTP method", required=True),
        text("path", "访问路径", "path", required=True),
        text("query", "查询参数", "query string", personal=True),
        integer("status", "响应状态", "HTTP status"),
        text("client", "来源地址", "client address"),
    ),
    sync="server", append_only=True,
    indexes=(Index(("actor", "at")), Index(("at",))),
)

AUDIT_TABLES: tuple[Table, ...] = (AUDIT_USERS,)
AUDIT_LOG_TABLES: tuple[Table, ...] = (ACCESS_LOG,)
