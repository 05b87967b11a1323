"""Synthetic members with planted duplicates (for identity tests and the 200k benchmark; seeded, pure).

ERP members get Chinese names drawn from common surnames and given-name characters (so different people share
names), E.164 mobiles, birthdays, stores and sometimes a WeChat id. A share of them reappear as `guide_wechat`
records the way a guide's contact list holds them: same phone or a missing one, the name as typed (sometimes
one character off), the birthday often missing, the WeChat id usually present. Some ERP members also appear a
second time in the ERP (re-registration with the same phone, a new card number). `identity.store.insert_planted`
loads them into a warehouse.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤"
    "珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓"
    "悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
)


@dataclass
class Planted:
    members: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (member_id, same_person_as)


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _typo(rng: random.Random, name: str) -> str:
    i = rng.randrange(1, len(name))
    return name[:i] + rng.choice(GIVEN) + name[i + 1 :]


def generate(n_erp: int, *, dup_share: float = 0.08, seed: int = 7, n_stores: int = 40) -> Planted:
    rng = random.Random(seed)
    out = Planted()
    stores = [f"S{i:03d}" for i in range(1, n_stores + 1)]
    start = dt.date(2018, 1, 1)
    used_phones: set[str] = set()
    for i in range(n_erp):
        mid = f"E{i:07d}"
        while True:
            phone = "+861" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))
            if phone not in used_phones:
                used_phones.add(phone)
                break
        has_phone = rng.random() < 0.92
        out.members.append(
            {
                "member_id": mid,
                "name": _name(rng),
                "birthday": start.replace(year=1960) + dt.timedelta(days=rng.randrange(365 * 45))
                if rng.random() < 0.8
                else None,
                "phone": phone if has_phone else None,
                "phone_status": "mobile" if has_phone else "missing",
                "wechat_id": f"wx_{rng.getrandbits(40):010x}" if rng.random() < 0.3 else None,
                "store_id": rng.choice(stores),
                "register_date": start + dt.timedelta(days=rng.randrange(2500)),
                "source": "erp",
            }
        )
    originals = list(out.members)
    n_dup = int(n_erp * dup_share)
    for j, orig in enumerate(rng.sample(originals, n_dup)):
        dup = _wechat_copy(rng, orig, f"G{j:07d}") if rng.random() < 0.8 else _erp_copy(rng, orig, f"R{j:07d}", start)
        if dup is None:
            continue
        out.members.append(dup)
        out.duplicates.append((dup["member_id"], orig["member_id"]))
    k = 0
    for m in out.members:
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            k += 1
            out.orders.append(
                {
                    "order_id": f"O{k:08d}",
                    "member_id": m["member_id"],
                    "store_id": m["store_id"],
                    "ordered_at": dt.datetime(2024, 1, 1) + dt.timedelta(hours=rng.randrange(20000)),
                    "amount": round(rng.uniform(-50, 800), 2),
                    "status": rng.choice(["paid", "paid", "paid", "refunded", "cancelled"]),
                }
            )
    return out


def _wechat_copy(rng: random.Random, orig: dict[str, Any], mid: str) -> dict[str, Any] | None:
    keep_phone = orig["phone"] is not None and rng.random() < 0.85
    wechat = orig["wechat_id"] or f"wx_{rng.getrandbits(40):010x}"
    has_wechat = orig["wechat_id"] is not None and rng.random() < 0.9
    name = orig["name"] if rng.random() < 0.85 else _typo(rng, orig["name"])
    birthday = orig["birthday"] if rng.random() < 0.5 else None
    if not keep_phone and not has_wechat and birthday is None:
        birthday = orig["birthday"]  # keep at least two identifying fields in common
        if birthday is None:
            return None
    return {
        "member_id": mid,
        "name": name,
        "birthday": birthday,
        "phone": orig["phone"] if keep_phone else None,
        "phone_status": "mobile" if keep_phone else "missing",
        "wechat_id": wechat if has_wechat else (f"wx_{rng.getrandbits(40):010x}" if rng.random() < 0.5 else None),
        "store_id": orig["store_id"],
        "register_date": None,
        "source": "guide_wechat",
    }


def _erp_copy(rng: random.Random, orig: dict[str, Any], mid: str, start: dt.date) -> dict[str, Any] | None:
    if orig["phone"] is None:
        return None
    return {
        "member_id": mid,
        "name": orig["name"],
        "birthday": orig["birthday"] if rng.random() < 0.7 else None,
        "phone": orig["phone"],
        "phone_status": "mobile",
        "wechat_id": None,
        "store_id": orig["store_id"] if rng.random() < 0.6 else f"S{rng.randrange(1, 41):03d}",
        "register_date": start + dt.timedelta(days=rng.randrange(2500)),
        "source": "erp",
    }
