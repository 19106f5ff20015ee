"""Canned queries on the machinery: tablets, conflicts, quarantine, the ledger and row provenance.

None of these show personal columns, so both roles get the same SQL (only the database differs).
"""

from __future__ import annotations

from schema.server_tables import CONFLICT_KIND, LEDGER_KIND
from server.audit.names import VERIFY_FN
from server.audit.sqlbits import UNIT_PARAM, CannedQuery, Ident, in_scope, label, table_label, with_clause

SILENT_DAYS = 7


def silent_tablets(_: Ident) -> CannedQuery:
    seen = "date(coalesce(d.last_seen_at, d.enrolled_at))"
    sql = with_clause(month=False) + f"""SELECT u.code AS "单位代码", u.name AS "单位", d.id AS "设备编号",
  d.label AS "设备名称", d.enrolled_at AS "登记时间", d.last_seen_at AS "最近同步",
  CAST(julianday(p.today) - julianday({seen}) AS INTEGER) AS "未同步天数"
FROM devices d JOIN units u ON u.id = d.unit_id, period p
WHERE d.revoked_at IS NULL AND {in_scope('d.unit_id')}
  AND julianday(p.today) - julianday({seen}) > {SILENT_DAYS}
ORDER BY "未同步天数" DESC, d.id"""
    return CannedQuery(
        "silent_tablets", f"超过{SILENT_DAYS}天未同步的平板",
        f"未吊销、最近一次同步(从未同步的按登记时间)距今超过{SILENT_DAYS}天的平板。", sql, (UNIT_PARAM,))


def open_conflicts(ident: Ident) -> CannedQuery:
    values = ""
    if ident.role == "senior":
        values = ', c.base_value AS "原值", c.server_value AS "服务器值", c.tablet_value AS "平板值"'
    sql = with_clause(month=False) + f"""SELECT c.id AS "冲突编号", u.code AS "单位代码", u.name AS "单位",
  {table_label('c.tbl')} AS "表", c.tbl AS "表名", c.row_id AS "行编号", c.column_name AS "字段",
  {label(CONFLICT_KIND, 'c.kind')} AS "类型", c.device_id AS "设备编号", c.created_at AS "发生时间",
  CAST(julianday(p.today) - julianday(date(c.created_at)) AS INTEGER) AS "已等待天数"{values}
FROM conflicts c LEFT JOIN units u ON u.id = c.unit_id, period p
WHERE c.status = 'open' AND (coalesce(:{UNIT_PARAM}, '') = '' OR {in_scope('c.unit_id')})
ORDER BY c.id"""
    return CannedQuery(
        "open_conflicts", "待处理的同步冲突",
        "平板与服务器对同一数据的修改不能自动合并、等待督导人员处理的冲突。", sql, (UNIT_PARAM,))


def quarantined(_: Ident) -> CannedQuery:
    sql = with_clause(month=False) + f"""SELECT q.id AS "隔离编号", q.upload_id AS "上传记录", u.code AS "单位代码",
  u.name AS "单位", q.device_id AS "设备编号", q.seq AS "设备序号", q.reason_code AS "原因代码",
  q.reason_zh AS "原因", q.created_at AS "隔离时间",
  CAST(julianday(p.today) - julianday(date(q.created_at)) AS INTEGER) AS "已隔离天数"
FROM quarantine q LEFT JOIN devices d ON d.id = q.device_id LEFT JOIN units u ON u.id = d.unit_id, period p
WHERE q.status = 'held' AND (coalesce(:{UNIT_PARAM}, '') = '' OR {in_scope('d.unit_id')})
ORDER BY q.id"""
    return CannedQuery(
        "quarantined", "隔离中的上传",
        "被拒绝或无法应用、仍在隔离区等待修正后重试的平板上传,及其原因。", sql, (UNIT_PARAM,))


def ledger_status(_: Ident) -> CannedQuery:
    sql = f"""SELECT h.id AS "账本头条目", h.hash AS "头哈希", h.at AS "头条目时间",
  CASE WHEN json_extract(v.j, '$.ok') THEN '完好' ELSE '损坏' END AS "校验结果",
  json_extract(v.j, '$.entries') AS "已校验条目数", json_extract(v.j, '$.checkpoints') AS "已验签检查点",
  json_extract(v.j, '$.first_bad') AS "首个异常条目", json_extract(v.j, '$.reason') AS "异常原因",
  (SELECT max(ledger_id) FROM ledger_checkpoints) AS "最近签名条目"
FROM (SELECT {VERIFY_FN}() AS j) v LEFT JOIN (SELECT id, hash, at FROM ledger ORDER BY id DESC LIMIT 1) h"""
    return CannedQuery(
        "ledger_status", "账本头与校验结果",
        "账本最新条目及其哈希,和与 `laogan ledger verify` 相同的离线校验结果(重算每条哈希、核对每个签名检查点)。",
        sql, ())


def row_provenance(_: Ident) -> CannedQuery:
    sql = f"""SELECT cl.tbl AS "表名", {table_label('cl.tbl')} AS "表", cl.row_id AS "行编号",
  cl.seq AS "变更序号", cl.captured_at AS "记录时间", l.id AS "账本条目", {label(LEDGER_KIND, 'l.kind')} AS "条目类型",
  l.actor AS "操作者", l.device_id AS "设备编号", d.label AS "设备名称", du.code AS "设备所属单位", l.at AS "入账时间",
  l.hash AS "条目哈希",
  (SELECT count(*) FROM change_log c2 WHERE c2.tbl = cl.tbl AND c2.row_id = cl.row_id) AS "变更次数"
FROM change_log cl LEFT JOIN ledger l ON l.id = cl.ledger_id LEFT JOIN devices d ON d.id = l.device_id
  LEFT JOIN units du ON du.id = d.unit_id
WHERE cl.tbl = :tbl AND cl.row_id = :row_id
ORDER BY cl.seq DESC LIMIT 1"""
    return CannedQuery(
        "row_provenance", "数据来源:某行最后一次变更",
        "变更流水与账本关联:指定表的指定行最后一次被哪条账本条目、哪台设备、在何时修改。", sql, ("tbl", "row_id"))


OPS_QUERIES = (silent_tablets, open_conflicts, quarantined, ledger_status, row_provenance)
