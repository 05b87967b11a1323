"""Guides' WeChat contact lists: some ERP members again (the planted duplicates) and people who are only there.

A duplicate always carries enough evidence to be found: the same phone as the ERP record or the WeChat id the
ERP record also has, plus its name (as the guide typed it), often the birthday, and the guide's store. Nothing
here repeats a phone or WeChat id of another person, so there are no accidental duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from winback.demo import ids
from winback.demo.brand import Brand, DemoSpec
from winback.demo.people import Members, bounded_normal
from winback.demo.people_names import chinese_names, remark_names

DUPLICATE_SHARE = 0.04  # ERP members who are also in a guide's WeChat list
WECHAT_ONLY_SHARE = 0.012  # people in the lists who are not ERP members (per ERP member)
SECOND_PHONE_BASE = 2_500_000_000  # index range for the other phone number some people give a guide
WECHAT_COLUMNS = ("导购", "导购姓名", "门店", "微信号", "备注名", "手机", "生日", "添加日期")
#: the header the ingest aliases do not know: 备注名 is the name the guide saved the contact under
WECHAT_MAPPING = {"备注名": "name"}


@dataclass
class WechatRows:
    table: pa.Table
    duplicate_of: pa.Table  # (member_id as imported, same_person_as)
    duplicate_members: np.ndarray  # chunk indexes of the ERP members that were copied


def _guide_for(brand: Brand, rng: np.random.Generator, m: Members, who: np.ndarray) -> np.ndarray:
    """The member's own guide, else a guide of their store, else an online-shop 客服."""
    store = np.where(m.store[who] >= 0, m.store[who], brand.online_store)
    return np.where(m.guide[who] >= 0, m.guide[who], brand.random_guide(rng, store))


def _rows(
    brand: Brand,
    guide: np.ndarray,
    wechat: pa.Array,
    remark: pa.Array,
    phone: pa.Array,
    birthday: pa.Array,
    added: np.ndarray,
) -> pa.Table:
    g = pa.array(guide)
    return pa.table(
        {
            "导购": pa.array(brand.guide_id).take(g),
            "导购姓名": pa.array(brand.guide_name).take(g),
            "门店": pa.array(brand.store_id[brand.guide_store]).take(g),
            "微信号": wechat,
            "备注名": remark,
            "手机": phone,
            "生日": birthday,
            "添加日期": pa.array(added.astype("datetime64[D]").astype(str)),
        }
    )


def wechat_rows(spec: DemoSpec, brand: Brand, m: Members, rng: np.random.Generator) -> WechatRows:
    n = len(m)
    null = pa.scalar(None, pa.string())
    start = np.datetime64(spec.start, "D")
    # duplicates
    valid_phone = m.phone_state == 0
    chosen = np.flatnonzero((rng.random(n) < DUPLICATE_SHARE) & (valid_phone | m.wechat_in_erp))
    k = len(chosen)
    u = rng.random(k)
    phone_same = valid_phone[chosen] & (u < 0.8)
    phone_other = (u >= 0.8) & (u < 0.88)
    phone_same |= ~m.wechat_in_erp[chosen]  # the phone is then the only evidence: keep it
    phone_other &= ~phone_same
    other = ids.mobile_numbers(m.index[chosen] + SECOND_PHONE_BASE, spec.seed)
    c = pa.array(chosen)
    phone = pc.if_else(pa.array(phone_same), m.phone.take(c), pc.if_else(pa.array(phone_other), other, null))
    birthday = pc.if_else(pa.array(rng.random(k) < 0.5), pa.array(m.birthday[chosen].astype(str)), null)
    added = start + (m.register_day[chosen] + rng.random(k) * (spec.days - m.register_day[chosen])).astype(
        "timedelta64[D]"
    )
    dup = _rows(
        brand, _guide_for(brand, rng, m, chosen), m.wechat.take(c), remark_names(rng, m.name.take(c)), phone,
        birthday, added,
    )  # fmt: skip
    duplicate_of = pa.table(
        {
            "member_id": pc.binary_join_element_wise("wx:", m.wechat.take(c), ""),
            "same_person_as": m.member_id.take(c),
        }
    )
    # people only in WeChat
    w = round(n * WECHAT_ONLY_SHARE)
    index = m.index[:w] + ids.WECHAT_ONLY_BASE
    female = rng.random(w) < 0.86
    age = (bounded_normal(rng, 32, 8, 18, 65, w) * 365.25).astype(np.int64)
    bday = np.datetime64(spec.end, "D") - age.astype("timedelta64[D]")
    guides = rng.integers(0, len(brand.guide_id), w)
    only = _rows(
        brand,
        guides,
        ids.wechat_ids(index, spec.seed),
        chinese_names(rng, female),
        pc.if_else(pa.array(rng.random(w) < 0.7), ids.mobile_numbers(index, spec.seed), null),
        pc.if_else(pa.array(rng.random(w) < 0.4), pa.array(bday.astype(str)), null),
        start + rng.integers(0, spec.days, w).astype("timedelta64[D]"),
    )
    return WechatRows(pa.concat_tables([dup, only]), duplicate_of, chosen)
