"""Phones: E.164 and status, the 7-digit prefix cache against phonenumbers itself, masking."""

from __future__ import annotations

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.common.phones import classify, classify_direct, display_phone, mask_phone, normalise_text


def test_statuses() -> None:
    assert classify(normalise_text("138-1234-5678")) == ("+8613812345678", "mobile")
    assert classify(normalise_text("+86 139 0000 1111")) == ("+8613900001111", "mobile")
    assert classify(normalise_text("008613900001111")) == ("+8613900001111", "mobile")
    assert classify(normalise_text("021-62345678")) == ("+862162345678", "landline")
    assert classify(normalise_text("10012345678")) == (None, "invalid")  # 11 digits, not a mobile range
    assert classify(normalise_text("12345")) == (None, "invalid")
    assert classify(normalise_text("abc")) == (None, "missing")
    assert classify(None) == (None, "missing")


def test_is_possible_is_not_enough() -> None:
    # phonenumbers calls this "possible" (right length) but it is not a valid number; winback must say invalid
    nonsense = phonenumbers.parse("10000000000", "CN")
    assert phonenumbers.is_possible_number(nonsense) and not phonenumbers.is_valid_number(nonsense)
    assert classify("10000000000")[1] == "invalid"


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"1[0-9]{10}", fullmatch=True))
def test_prefix_cache_agrees_with_phonenumbers(number: str) -> None:
    assert classify(number) == classify_direct(number)


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_phone("+862164381234") == "021****1234"
    assert mask_phone("+85291234567") == "+852****4567"
    assert mask_phone("12345") == "1***5"
    assert mask_phone(None) == ""


def test_display_phone_dials_like_people_do() -> None:
    assert display_phone("+8613812345678") == "13812345678"
    assert display_phone("+862164381234") == "02164381234"
    assert display_phone("+85291234567") == "+85291234567"
    assert display_phone(None) == ""
