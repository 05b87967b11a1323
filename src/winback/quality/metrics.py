"""What `winback quality` measures: definitions, labels, and shaping aggregate counts into the report (pure).

Member measures count members: records not merged away (members.merged_into IS NULL) that are not contacts; their
share is of those members. Contacts — records from a contact source (a guide's WeChat friends) that matched no ERP
member, so were not merged into one — are counted apart, with the same measures (issue 9: a guide's WeChat friend
is a contact, not a 会员, until matched). Order measures count every row of `orders` (cancelled included: this is
about the data, not the revenue).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from winback.quality.types import Counted, OrderFigures, QualityBlock

# the same list as winback.lifecycle.snapshot_sql.CONTACT_SOURCES (a test keeps them equal)
CONTACT_SOURCES = ("guide_wechat",)

# measure -> (English definition, 中文)
MEMBER_MEASURES: dict[str, tuple[str, str]] = {
    "contactable": (
        "valid mobile (phone_status = mobile), SMS or call consent given (TRUE; unknown is not consent), not opted out",
        "可联系：有效手机号、已同意短信或电话、未退订",
    ),
    "valid_mobile": ("phone_status = mobile", "有效手机号"),
    "landline": ("phone_status = landline", "固定电话"),
    "invalid_phone": ("phone_status = invalid (a number was given but is not a valid phone)", "手机号无效"),
    "missing_phone": ("phone_status = missing (no number given)", "缺少手机号"),
    "incomplete_profile": ("at least one profile field is missing (see incomplete_fields)", "资料不完整"),
    "suspected_duplicate": (
        "a non-survivor record in a cluster of the latest `winback dedupe` run, not merged yet",
        "疑似重复",
    ),
    "never_purchased": ("no paid order", "无消费"),
}

# profile field -> SQL condition that says it is missing (over the members table)
PROFILE_FIELDS: dict[str, str] = {
    "name": "nullif(trim(coalesce(name, '')), '') IS NULL",
    "gender": "gender IS NULL",
    "birthday": "birthday IS NULL",
    "phone": "phone_status = 'missing'",
    "store": "coalesce(store_id, register_store) IS NULL",
    "register_date": "register_date IS NULL",
    "tier": "nullif(trim(coalesce(tier, '')), '') IS NULL",
}

ORDER_MEASURES: dict[str, tuple[str, str]] = {
    "without_member": (
        "orders whose member_id is empty or names no member in the warehouse",
        "无法关联会员的订单",
    ),
}

GROUPINGS = ("store", "source", "tier")


def share(count: int, total: int) -> float | None:
    return None if total == 0 else count / total


def counted(count: int, total: int) -> Counted:
    return Counted(count=int(count), share=share(int(count), int(total)))


def shape_group(row: Mapping[str, Any], *, duplicates_known: bool, with_orders: bool = True) -> QualityBlock:
    """One report block from an aggregate row (keys: members, each measure, missing_<field>, orders…).
    `with_orders=False` leaves the order figures out (groups that orders cannot be split by)."""
    n = int(row["members"])
    measures = {k: counted(row[k], n) for k in MEMBER_MEASURES}
    if not duplicates_known:
        measures["suspected_duplicate"] = Counted(count=None, share=None)
    orders = int(row.get("orders") or 0)
    return QualityBlock(
        members=n,
        measures=measures,
        incomplete_fields={f: counted(row[f"missing_{f}"], n) for f in PROFILE_FIELDS},
        orders=OrderFigures(orders=orders, without_member=counted(row.get("orders_without_member") or 0, orders))
        if with_orders
        else None,
    )


def definitions() -> dict[str, Any]:
    return {
        "members": "member records not merged into another (members.merged_into IS NULL) and not contacts",
        "contacts": {
            "en": f"records from {', '.join(CONTACT_SOURCES)} that match no ERP member (not merged into one): "
            "contacts, not members; counted apart with the same measures",
            "zh": "导购微信好友中未匹配到 ERP 会员的记录：是联系人，不是会员；单独统计（指标相同）",
        },
        "measures": {k: {"en": en, "zh": zh} for k, (en, zh) in MEMBER_MEASURES.items()},
        "incomplete_fields": {k: f"missing when {cond}" for k, cond in PROFILE_FIELDS.items()},
        "orders": {k: {"en": en, "zh": zh} for k, (en, zh) in ORDER_MEASURES.items()},
    }
