"""The ERP member export of a chunk, written the way real exports are: Chinese headers, dates in mixed forms
(2024/3/5, 2024-03-05, 20240305, 2024年3月5日), phones with spaces, dashes and +86, wrong and missing phones,
tiers from lifetime spend, points, consents as 是/否."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from winback.demo.brand import Brand, DemoSpec
from winback.demo.people import Members
from winback.demo.vocab import CHANNEL_OFFLINE_TEXT, CHANNEL_ONLINE_TEXT, INVALID_PREFIXES, TIER_THRESHOLDS, TIERS

MEMBER_COLUMNS = (
    "会员卡号",
    "姓名",
    "性别",
    "手机号码",
    "微信号",
    "生日",
    "开卡日期",
    "开卡门店",
    "专属导购",
    "会员等级",
    "积分",
    "注册渠道",
    "是否接收短信",
    "微信推送",
)


def _text(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype(np.int64)).cast(pa.string())


def mixed_dates(rng: np.random.Generator, dates: np.ndarray, with_time: np.ndarray | None = None) -> pa.Array:
    """Dates as different systems write them: 2024/3/5, 2024-03-05, 20240305, 2024年3月5日, 2024.03.05."""
    n = len(dates)
    ymd = dates.astype("datetime64[D]")
    y = ymd.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = ymd.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (ymd - ymd.astype("datetime64[M]")).astype(np.int64) + 1
    ys, ms, ds = _text(y), _text(mo), _text(d)
    m2, d2 = pc.utf8_lpad(ms, 2, "0"), pc.utf8_lpad(ds, 2, "0")
    forms = [
        pc.binary_join_element_wise(ys, ms, ds, "/"),
        pc.binary_join_element_wise(ys, m2, d2, "-"),
        pc.binary_join_element_wise(ys, m2, d2, ""),
        pc.binary_join_element_wise(ys, "年", ms, "月", ds, "日", ""),
        pc.binary_join_element_wise(ys, m2, d2, "."),
    ]
    which = rng.choice(len(forms), size=n, p=[0.4, 0.35, 0.1, 0.1, 0.05])
    out = forms[0]
    for k in range(1, len(forms)):
        out = pc.if_else(pa.array(which == k), forms[k], out)
    if with_time is not None:
        hms = pc.strftime(pa.array(with_time.astype("datetime64[s]")), format=" %H:%M:%S")
        out = pc.if_else(pa.array(which == 1), pc.binary_join_element_wise(out, hms, ""), out)
    return out


def phone_texts(rng: np.random.Generator, phone: pa.Array, state: np.ndarray) -> pa.Array:
    """Valid numbers in several layouts; invalid ones cut short, a digit too many or a bad prefix; missing = null."""
    n = len(phone)
    head, mid, tail = (pc.utf8_slice_codeunits(phone, a, b) for a, b in ((0, 3), (3, 7), (7, 11)))
    layouts = [
        phone,
        pc.binary_join_element_wise(head, mid, tail, "-"),
        pc.binary_join_element_wise(head, mid, tail, " "),
        pc.binary_join_element_wise("+86 ", phone, ""),
        pc.binary_join_element_wise("86", phone, ""),
    ]
    which = rng.choice(len(layouts), size=n, p=[0.82, 0.06, 0.05, 0.04, 0.03])
    valid = layouts[0]
    for k in range(1, len(layouts)):
        valid = pc.if_else(pa.array(which == k), layouts[k], valid)
    bad_prefix = pa.array(INVALID_PREFIXES).take(pa.array(rng.integers(0, len(INVALID_PREFIXES), n)))
    wrong = [
        pc.utf8_slice_codeunits(phone, 0, 10),  # a digit missing
        pc.binary_join_element_wise(phone, _text(rng.integers(0, 10, n)), ""),  # a digit too many
        pc.binary_join_element_wise(bad_prefix, pc.utf8_slice_codeunits(phone, 3, 11), ""),  # no such prefix
        pc.binary_join_element_wise(head, "****", tail, ""),  # masked by the system that exported it
    ]
    kind = rng.integers(0, len(wrong), n)
    invalid = wrong[0]
    for k in range(1, len(wrong)):
        invalid = pc.if_else(pa.array(kind == k), wrong[k], invalid)
    out = pc.if_else(pa.array(state == 1), invalid, valid)
    return pc.if_else(pa.array(state == 2), pa.scalar(None, pa.string()), out)


def tier_of(spend: np.ndarray) -> np.ndarray:
    """Tier index from lifetime net spend (普通 < 2,500 ≤ 高级 < 8,000 ≤ 贵宾 < 20,000 ≤ 至尊贵宾)."""
    return np.searchsorted(np.array(TIER_THRESHOLDS), spend, side="right") - 1


def members_table(
    spec: DemoSpec, brand: Brand, m: Members, spend: np.ndarray, rng: np.random.Generator
) -> tuple[pa.Table, np.ndarray]:
    """(the ERP rows, the tier index of each member)."""
    n = len(m)
    start = np.datetime64(spec.start, "D")
    reg_date = start + m.register_day.astype("timedelta64[D]")
    reg_ts = reg_date.astype("datetime64[s]") + (rng.uniform(10, 21.9, n) * 3600).astype("timedelta64[s]")
    tier = tier_of(np.maximum(spend, 0.0))
    redeemed = np.where(rng.random(n) < 0.3, rng.uniform(0, 0.7, n), 0.0)
    points = np.floor(np.maximum(spend, 0.0) * (1.0 - redeemed)).astype(np.int64)
    gender = np.where(m.female, "女", "男")
    gender_pa = pc.if_else(pa.array(rng.random(n) < 0.03), pa.scalar(None, pa.string()), pa.array(gender))
    channel = np.where(
        m.online,
        np.array(CHANNEL_ONLINE_TEXT)[rng.integers(0, len(CHANNEL_ONLINE_TEXT), n)],
        np.array(CHANNEL_OFFLINE_TEXT)[rng.integers(0, len(CHANNEL_OFFLINE_TEXT), n)],
    )
    null = pa.scalar(None, pa.string())
    store = pc.if_else(pa.array(m.store >= 0), pa.array(brand.store_id).take(pa.array(np.maximum(m.store, 0))), null)
    guide = pc.if_else(pa.array(m.guide >= 0), pa.array(brand.guide_id).take(pa.array(np.maximum(m.guide, 0))), null)
    yes_no = np.array(["否", "是"])
    table = pa.table(
        {
            "会员卡号": m.member_id,
            "姓名": m.name,
            "性别": gender_pa,
            "手机号码": phone_texts(rng, m.phone, m.phone_state),
            "微信号": pc.if_else(pa.array(m.wechat_in_erp), m.wechat, null),
            "生日": pc.if_else(pa.array(m.has_birthday), mixed_dates(rng, m.birthday), null),
            "开卡日期": mixed_dates(rng, reg_date, reg_ts),
            "开卡门店": store,
            "专属导购": guide,
            "会员等级": pa.array(np.array(TIERS)[tier]),
            "积分": pa.array(points),
            "注册渠道": pa.array(channel),
            "是否接收短信": pa.array(yes_no[m.consent_sms.astype(int)]),
            "微信推送": pa.array(yes_no[m.consent_wechat.astype(int)]),
        }
    )
    return table, tier
