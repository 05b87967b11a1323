"""Scheme and segment names in either language (lifecycle/names.py): ids, zh and en labels; ambiguity is an error."""

from __future__ import annotations

import re

import pytest

from winback import i18n
from winback.errors import InputError
from winback.lifecycle.names import name_key, resolve_scheme, resolve_segments
from winback.lifecycle.rules import default_schemes

SCHEMES = {name: sch.to_dict() for name, sch in default_schemes().items()}


def test_a_segment_is_named_by_its_id_its_chinese_or_its_english_label() -> None:
    got = resolve_segments(SCHEMES, "seed_cn", ["沉默会员", "silent (90–179 days)", "Silent", "near-dormant", "lost"])
    assert got == ["silent", "silent", "silent", "near_dormant", "lost"]
    assert resolve_segments(SCHEMES, "seed_cn", ["ｎｅａｒ＿ｄｏｒｍａｎｔ"]) == ["near_dormant"]  # full-width typing
    assert resolve_segments(SCHEMES, "lifecycle", ["流失期会员", "active repeat", "高挽回预流失"]) == [
        "churned",
        "active_repeat",
        "prechurn_high",
    ]


def test_a_scheme_is_named_by_its_id_or_its_labels() -> None:
    assert resolve_scheme(SCHEMES, "会员生命周期") == "lifecycle"
    assert resolve_scheme(SCHEMES, "Lifecycle stage (seed 004)") == "lifecycle"
    assert resolve_scheme(SCHEMES, "nope") == "nope"  # the caller reports an unknown scheme with the list


def test_a_segment_of_another_scheme_is_named_in_the_hint_not_switched_to() -> None:
    with pytest.raises(InputError, match="分层方案 'seed_cn' 中没有分群 '流失期会员'") as exc:
        resolve_segments(SCHEMES, "seed_cn", ["流失期会员"])
    assert "--scheme lifecycle (churned)" in (exc.value.hint or "")
    with pytest.raises(InputError) as exc:
        resolve_segments(SCHEMES, "seed_cn", ["sleepy"])
    assert "silent (沉默会员)" in (exc.value.hint or "")  # the label in the reader's language


def test_a_name_two_segments_share_lists_both() -> None:
    twins = {
        "s": {
            "zh": "x",
            "en": "x",
            "rules": [
                {"segment": "a", "zh": "老客", "en": "regular"},
                {"segment": "b", "zh": "老客", "en": "loyal"},
                {"segment": "rest", "zh": "其他", "en": "other"},
            ],
        }
    }
    with pytest.raises(InputError, match="不唯一") as exc:
        resolve_segments(twins, "s", ["老客"])
    assert "a (老客)" in (exc.value.hint or "") and "b (老客)" in (exc.value.hint or "")
    assert resolve_segments(twins, "s", ["loyal"]) == ["b"]


def test_labels_of_the_shipped_schemes_name_one_segment_each() -> None:
    """Every zh and en label of the shipped schemes resolves to its own segment in its own scheme."""
    for name, sch in SCHEMES.items():
        for rule in sch["rules"]:
            assert resolve_segments(SCHEMES, name, [rule["zh"], rule["en"]]) == [rule["segment"]] * 2, (name, rule)
    assert name_key(" Near-Dormant ") == name_key("near_dormant")


def test_the_choices_are_shown_in_the_readers_language() -> None:
    with i18n.using("en"), pytest.raises(InputError, match="unknown segment 'sleepy' in scheme 'seed_cn'") as exc:
        resolve_segments(SCHEMES, "seed_cn", ["sleepy"])
    hint = exc.value.hint or ""
    assert "silent (silent (90–179 days))" in hint and not re.search(r"[\u4e00-\u9fff]", hint)
