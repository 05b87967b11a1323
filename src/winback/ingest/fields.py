"""What each import kind loads: target fields, their value types, and which are required.

Pure data: no database or CLI imports. The SQL that parses each type lives in `values_sql.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ValueType = Literal[
    "id", "text", "date", "timestamp", "money", "int", "number", "bool", "gender", "phone", "channel", "status"
]

KINDS = ("members", "orders", "order_items", "stores", "staff", "events")

#: how a kind is written on the command line (`order-items`) -> the kind
KIND_ALIASES = {"order-items": "order_items", "items": "order_items", "guides": "staff"}


@dataclass(frozen=True)
class Field:
    name: str
    type: ValueType
    required: bool = False
    label: str = ""  # how messages name it ("amount", "order id")

    @property
    def says(self) -> str:
        return self.label or self.name.replace("_", " ")


def _f(name: str, type_: ValueType, required: bool = False, label: str = "") -> Field:
    return Field(name, type_, required, label)


FIELDS: dict[str, tuple[Field, ...]] = {
    "members": (
        _f("member_id", "id", label="member id"),
        _f("name", "text"),
        _f("gender", "gender"),
        _f("birthday", "date"),
        _f("phone", "phone"),
        _f("wechat_id", "id", label="WeChat id"),
        _f("email", "text"),
        _f("register_date", "date", label="register date"),
        _f("register_channel", "channel", label="register channel"),
        _f("register_store", "id", label="register store"),
        _f("store_id", "id", label="store"),
        _f("guide_id", "id", label="guide"),
        _f("tier", "text"),
        _f("points", "number"),
        _f("consent_sms", "bool", label="SMS consent"),
        _f("consent_wechat", "bool", label="WeChat consent"),
        _f("consent_email", "bool", label="email consent"),
        _f("consent_call", "bool", label="call consent"),
        _f("opted_out_at", "timestamp", label="opt-out time"),
        _f("source", "text"),
    ),
    "orders": (
        _f("order_id", "id", True, "order id"),
        _f("member_id", "id", label="member id"),
        _f("store_id", "id", label="store"),
        _f("guide_id", "id", label="guide"),
        _f("channel", "text"),
        _f("ordered_at", "timestamp", True, "order time"),
        _f("amount", "money", True),
        _f("quantity", "int"),
        _f("status", "status"),
        _f("original_order_id", "id", label="original order id"),
        _f("sku", "id", label="SKU"),
        _f("category", "text"),
        _f("line_no", "int", label="line number"),
    ),
    "order_items": (
        _f("order_id", "id", True, "order id"),
        _f("line_no", "int", label="line number"),
        _f("sku", "id", label="SKU"),
        _f("category", "text"),
        _f("quantity", "int"),
        _f("amount", "money"),
    ),
    "stores": (
        _f("store_id", "id", True, "store id"),
        _f("name", "text"),
        _f("city", "text"),
        _f("region", "text"),
        _f("address", "text"),
        _f("latitude", "number"),
        _f("longitude", "number"),
        _f("opened_at", "date", label="opening date"),
        _f("closed_at", "date", label="closing date"),
    ),
    "staff": (
        _f("guide_id", "id", True, "guide id"),
        _f("name", "text"),
        _f("store_id", "id", label="store"),
        _f("role", "text"),
        _f("phone", "phone"),
        _f("wechat_id", "id", label="WeChat id"),
        _f("hired_at", "date", label="hire date"),
        _f("left_at", "date", label="leaving date"),
    ),
    "events": (
        _f("member_id", "id", True, "member id"),
        _f("event_type", "text", True, "event type"),
        _f("occurred_at", "timestamp", True, "event time"),
        _f("channel", "text"),
        _f("object_id", "id", label="object id"),
    ),
}

#: master data: a bad optional value is blanked (raw text kept in `extra`) instead of rejecting the row
MASTER_KINDS = frozenset({"members", "stores", "staff"})


def normalise_kind(kind: str) -> str:
    k = kind.strip().lower()
    k = KIND_ALIASES.get(k, k)
    return k


def fields_of(kind: str) -> dict[str, Field]:
    return {f.name: f for f in FIELDS[kind]}
