"""Small constructors so table definitions read like a form, not like boilerplate."""

from __future__ import annotations

from schema.model import Column, Enum, MergePolicy


def pk() -> Column:
    return Column("id", "uuid", "编号", "id", required=True)


def unit(zh: str = "责任单位", en: str = "responsible unit") -> Column:
    return Column("unit_id", "uuid", zh, en, required=True, references="units", merge="server")


def ref(name: str, table: str, zh: str, en: str, *, required: bool = False) -> Column:
    return Column(name, "uuid", zh, en, required=required, references=table)


def text(name: str, zh: str, en: str, *, required: bool = False, personal: bool = False,
         unique: bool = False, merge: MergePolicy = "latest") -> Column:
    return Column(name, "text", zh, en, required=required, personal=personal, unique=unique, merge=merge)


def day(name: str, zh: str, en: str, *, required: bool = False, personal: bool = False) -> Column:
    return Column(name, "date", zh, en, required=required, personal=personal)


def flag(name: str, zh: str, en: str, *, personal: bool = False) -> Column:
    return Column(name, "bool", zh, en, required=True, default="0", personal=personal)


def choice(name: str, enum: Enum, zh: str | None = None, en: str | None = None, *,
           required: bool = True, default: str | None = None, merge: MergePolicy = "latest",
           personal: bool = False) -> Column:
    return Column(name, "enum", zh or enum.zh, en or enum.en, required=required, enum=enum,
                  default=None if default is None else f"'{default}'", merge=merge, personal=personal)


def integer(name: str, zh: str, en: str, *, required: bool = False, lo: int | None = None,
            hi: int | None = None, default: str | None = None) -> Column:
    return Column(name, "int", zh, en, required=required, min_value=lo, max_value=hi, default=default)


def money(name: str, zh: str, en: str) -> Column:
    return Column(name, "real", zh, en, min_value=0)
