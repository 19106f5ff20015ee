"""Tables that never sync: the central database's machinery and the tablet's outbox and cursor.

They are in the registry too, so Datasette labels, checksums and migrations read one list.
"""

from __future__ import annotations

from schema.columns import choice, integer, text
from schema.enums import _enum
from schema.model import Column, Index, Table

UPLOAD_STATUS = _enum(
    "upload_status", "上传结果", "upload outcome",
    ("applied", "已应用", "applied"),
    ("merged", "已合并", "merged"),
    ("conflicted", "有冲突", "applied with conflicts queued"),
    ("quarantined", "已隔离", "quarantined"),
    ("rejected", "已拒绝", "rejected"),
)
CONFLICT_KIND = _enum(
    "conflict_kind", "冲突类型", "conflict kind",
    ("field", "同一字段两边都改", "same field changed on both sides"),
    ("edited_after_delete", "删除后又修改", "edited after deletion"),
    ("deleted_after_edit", "修改后又删除", "deleted after an edit"),
    ("insert_exists", "重复新增", "insert of an existing key"),
)
CONFLICT_STATUS = _enum(
    "conflict_status", "冲突状态", "conflict status",
    ("open", "待处理", "open"), ("resolved", "已处理", "resolved"),
)
WINNER = _enum(
    "winner", "采用的值", "chosen value",
    ("server", "服务器值", "server value"), ("tablet", "平板值", "tablet value"),
    ("value", "指定值", "a given value"),
)
QUARANTINE_STATUS = _enum(
    "quarantine_status", "隔离状态", "quarantine status",
    ("held", "隔离中", "held"), ("applied", "已重试应用", "applied on retry"),
)
LEDGER_KIND = _enum(
    "ledger_kind", "账本条目类型", "ledger entry kind",
    ("genesis", "创世", "genesis"),
    ("upload", "平板上传", "tablet upload"),
    ("resolution", "冲突处理", "conflict resolution"),
    ("retry", "隔离重试", "quarantine retry"),
    ("import", "数据导入", "import"),
    ("admin", "管理修改", "administrative change"),
    ("device", "设备变更", "device enrolment or revocation"),
)
OUTBOX_STATUS = _enum(
    "outbox_status", "发送状态", "outbox status",
    ("pending", "待发送", "pending"), ("sent", "已发送", "sent"),
)


def _int_pk(name: str = "id") -> Column:
    return Column(name, "int", "序号", "sequence number", required=True)


def _ts(name: str, zh: str, en: str, *, required: bool = False) -> Column:
    return Column(name, "datetime", zh, en, required=required)


def _uuid(name: str, zh: str, en: str, *, required: bool = False, references: str | None = None) -> Column:
    return Column(name, "uuid", zh, en, required=required, references=references)


def _blob(name: str, zh: str, en: str, *, required: bool = False) -> Column:
    return Column(name, "blob", zh, en, required=required)


def _json(name: str, zh: str, en: str, *, personal: bool = False) -> Column:
    return Column(name, "json", zh, en, personal=personal)


DEVICES = Table(
    "devices", "平板设备", "devices",
    "已登记的平板:所属单位、公钥、吊销时间、下一个上传序号。",
    (
        _uuid("id", "设备编号", "device id", required=True),
        _uuid("unit_id", "所属单位", "unit", required=True, references="units"),
        text("label", "设备名称", "label"),
        text("sign_pub", "签名公钥", "Ed25519 public key", required=True),
        text("box_pub", "加密公钥", "X25519 public key", required=True),
        _ts("enrolled_at", "登记时间", "enrolled at", required=True),
        _ts("revoked_at", "吊销时间", "revoked at"),
        _ts("last_seen_at", "最近同步", "last seen at"),
        integer("next_seq", "下一上传序号", "next expected sequence", required=True, default="1"),
    ),
    sync="server", indexes=(Index(("unit_id",)),),
)

ENROL_CODES = Table(
    "enrol_codes", "登记码", "enrolment codes",
    "一次性登记码(只存哈希),24小时有效。",
    (
        _int_pk(),
        text("code_hash", "登记码哈希", "code hash", required=True, unique=True),
        _uuid("unit_id", "单位", "unit", required=True, references="units"),
        _ts("created_at", "生成时间", "created at", required=True),
        _ts("expires_at", "过期时间", "expires at", required=True),
        _ts("used_at", "使用时间", "used at"),
        _uuid("device_id", "登记的设备", "device enrolled"),
    ),
    sync="server",
)

UPLOADS = Table(
    "uploads", "上传记录", "uploads",
    "平板每次上传的去向:已应用、已合并、有冲突、已隔离或已拒绝;原文保存。",
    (
        _int_pk(),
        _uuid("device_id", "设备", "device", required=True),
        integer("seq", "设备序号", "device sequence", required=True),
        _ts("received_at", "接收时间", "received at", required=True),
        _ts("captured_at", "平板记录时间", "captured on the tablet at"),
        text("envelope_sha256", "信封哈希", "envelope SHA-256", required=True),
        _blob("envelope", "信封原文(密文)", "envelope (ciphertext)", required=True),
        choice("status", UPLOAD_STATUS),
        _json("receipt", "回执", "receipt"),
        integer("ledger_id", "账本条目", "ledger entry"),
    ),
    sync="server", indexes=(Index(("device_id", "seq")),),
)

CONFLICTS = Table(
    "conflicts", "同步冲突", "sync conflicts",
    "不能自动合并的修改:两边的值、暂定结果,等待督导人员处理。",
    (
        _int_pk(),
        integer("upload_id", "上传记录", "upload", required=True),
        _uuid("device_id", "设备", "device", required=True),
        _uuid("unit_id", "单位", "unit"),
        text("tbl", "表", "table", required=True),
        _uuid("row_id", "行编号", "row id", required=True),
        text("column_name", "字段", "column"),
        choice("kind", CONFLICT_KIND),
        _json("base_value", "原值", "base value", personal=True),
        _json("server_value", "服务器值", "server value", personal=True),
        _json("tablet_value", "平板值", "tablet value", personal=True),
        choice("provisional", WINNER, "暂定采用", "provisional winner"),
        choice("status", CONFLICT_STATUS, default="open"),
        _ts("created_at", "发生时间", "created at", required=True),
        choice("resolution", WINNER, "处理结果", "resolution", required=False),
        _json("resolved_value", "最终值", "resolved value", personal=True),
        text("resolved_by", "处理人", "resolved by"),
        _ts("resolved_at", "处理时间", "resolved at"),
    ),
    sync="server", indexes=(Index(("status", "unit_id")), Index(("tbl", "row_id"))),
)

QUARANTINE = Table(
    "quarantine", "隔离区", "quarantine",
    "被拒绝或无法应用的上传:原文、原因(中英文),修正后可重试。",
    (
        _int_pk(),
        integer("upload_id", "上传记录", "upload", required=True),
        _uuid("device_id", "设备", "device"),
        integer("seq", "设备序号", "device sequence"),
        text("reason_code", "原因代码", "reason code", required=True),
        text("reason_zh", "原因", "reason (Chinese)", required=True),
        text("reason_en", "原因(英文)", "reason (English)", required=True),
        _ts("created_at", "隔离时间", "quarantined at", required=True),
        choice("status", QUARANTINE_STATUS, default="held"),
        _ts("retried_at", "重试时间", "retried at"),
    ),
    sync="server", indexes=(Index(("status",)),),
)

LEDGER = Table(
    "ledger", "账本", "ledger",
    "只增不改、逐条哈希链接的记录:每次上传及结果、每次服务器端修改。",
    (
        _int_pk(),
        _ts("at", "时间", "at", required=True),
        choice("kind", LEDGER_KIND),
        text("actor", "操作者", "actor", required=True),
        _uuid("device_id", "设备", "device"),
        _uuid("staff_id", "工作人员", "staff member"),
        _json("summary", "摘要", "summary"),
        _blob("effect", "变更集", "effect changeset"),
        text("effect_sha256", "变更集哈希", "effect SHA-256", required=True),
        text("prev_hash", "前一条哈希", "previous hash", required=True),
        text("hash", "本条哈希", "entry hash", required=True, unique=True),
    ),
    sync="server", append_only=True,
)

CHECKPOINTS = Table(
    "ledger_checkpoints", "账本签名检查点", "ledger checkpoints",
    "服务器用 Ed25519 私钥对账本头哈希的签名。",
    (
        _int_pk(),
        integer("ledger_id", "账本条目", "ledger entry", required=True),
        text("head_hash", "头哈希", "head hash", required=True),
        text("signature", "签名", "signature", required=True),
        _ts("at", "时间", "at", required=True),
    ),
    sync="server", append_only=True,
)

CHANGE_LOG = Table(
    "change_log", "变更流水", "change log",
    "每行每次变更一条:供平板增量拉取(按单位索引),也是每行的数据来源(最后一条指向账本条目)。",
    (
        _int_pk("seq"),
        text("tbl", "表", "table", required=True),
        _uuid("row_id", "行编号", "row id", required=True),
        _uuid("unit_id", "单位", "unit"),
        integer("ledger_id", "账本条目", "ledger entry"),
        _ts("captured_at", "记录时间", "captured at"),
    ),
    sync="server", pk="seq", append_only=True,
    indexes=(Index(("unit_id", "seq")), Index(("tbl", "row_id", "seq"))),
)

SUPERVISORS = Table(
    "supervisors", "督导人员", "supervisors",
    "市委老干部局督导人员的凭据(只存哈希),用于处理冲突和隔离区。",
    (
        _int_pk(),
        text("name", "姓名/账号", "name", required=True, unique=True),
        text("secret_hash", "凭据哈希", "secret hash", required=True),
        _ts("created_at", "创建时间", "created at", required=True),
        _ts("expires_at", "过期时间", "expires at"),
        _ts("revoked_at", "吊销时间", "revoked at"),
    ),
    sync="server",
)

META = Table(
    "server_meta", "服务器信息", "server metadata", "键值对:服务器公钥等。",
    (text("key", "键", "key", required=True), text("value", "值", "value")),
    sync="server", pk="key",
)

OUTBOX = Table(
    "outbox", "待发送变更", "outbox",
    "平板本地每个事务的变更集,按序号上传。",
    (
        _int_pk("seq"),
        _ts("captured_at", "记录时间", "captured at", required=True),
        _blob("changeset", "变更集", "changeset", required=True),
        _blob("envelope", "已封装信封", "sealed envelope (kept so a retry resends the same bytes)"),
        choice("status", OUTBOX_STATUS, default="pending"),
        _ts("sent_at", "发送时间", "sent at"),
        _json("receipt", "回执", "receipt"),
    ),
    sync="tablet", pk="seq",
)

SYNC_STATE = Table(
    "sync_state", "同步状态", "sync state", "平板同步状态:设备编号、拉取游标、最近同步时间。",
    (text("key", "键", "key", required=True), text("value", "值", "value")),
    sync="tablet", pk="key",
)

MACHINE_TABLES: tuple[Table, ...] = (
    DEVICES, ENROL_CODES, UPLOADS, CONFLICTS, QUARANTINE, LEDGER, CHECKPOINTS, CHANGE_LOG, SUPERVISORS,
    META, OUTBOX, SYNC_STATE,
)
