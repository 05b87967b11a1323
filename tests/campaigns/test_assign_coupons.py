"""Assignment is deterministic and balanced per stratum; coupon codes are unique and self-checking."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from winback.campaigns.assign import CONTROL, ArmSpec, arm_specs, assign
from winback.campaigns.coupons import (
    ALPHABET,
    check_symbol,
    display,
    draw_codes,
    is_valid,
    new_codes,
    qr,
    save_qr,
    validate,
)
from winback.errors import InputError


def _audience(n: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    stores, segs = ["S01", "S02", "S03", "S04"], ["silent", "near_dormant", "hibernating", "lost"]
    return [(f"M{i:06d}", f"{rng.choice(stores)}|{rng.choice(segs)}") for i in range(n)]


def test_same_launch_twice_gives_same_arms_whatever_the_order() -> None:
    members = _audience(3000)
    arms = arm_specs(0.1, ["A", "B"])
    first = assign("C0007", members, arms)
    shuffled = members[:]
    random.Random(1).shuffle(shuffled)
    assert assign("C0007", shuffled, arms) == first
    other = assign("C0008", members, arms)
    assert sum(first[m] != other[m] for m, _ in members) > 1000  # a different campaign draws anew


def test_arms_balanced_globally_and_per_stratum() -> None:
    members = _audience(5000)
    arms = arm_specs(0.1, ["A", "B"])
    got = assign("C1", members, arms)
    total = Counter(got.values())
    assert abs(total[CONTROL] - 500) <= 1 and abs(total["A"] - 2250) <= 1 and abs(total["B"] - 2250) <= 1
    strata = sorted({s for _, s in members})
    table = []
    for s in strata:
        ids = [m for m, st_ in members if st_ == s]
        c = Counter(got[m] for m in ids)
        for a in arms:
            assert abs(c[a.key] - a.share * len(ids)) < 2.0, (s, a.key, c)
        table.append([c[a.key] for a in arms])
    chi2 = sps.chi2_contingency(table)
    assert chi2.pvalue > 0.99  # far more even than chance would be


def test_small_strata_do_not_starve_the_control() -> None:
    members = [(f"M{i}", f"stratum{i // 3}") for i in range(3000)]  # 1000 strata of 3
    got = Counter(assign("C2", members, arm_specs(0.1, ["A"])).values())
    assert abs(got[CONTROL] - 300) <= 1


@pytest.mark.usefixtures("english")
def test_assignment_rejects_bad_specs() -> None:
    with pytest.raises(InputError):
        arm_specs(1.0, ["A"])
    with pytest.raises(InputError):
        arm_specs(0.1, [])
    with pytest.raises(InputError):
        assign("C", [("M1", "s")], [ArmSpec("A", 0.5)])
    with pytest.raises(InputError, match="twice"):
        assign("C", [("M1", "s"), ("M1", "t")], arm_specs(0.1, ["A"]))


def test_codes_unique_and_valid() -> None:
    codes = new_codes(20000)
    assert len(set(codes)) == 20000
    assert all(is_valid(c) and len(c) == 12 and set(c) <= set(ALPHABET) for c in codes[:2000])
    assert not set("01OI") & set("".join(codes))
    more = new_codes(10, taken=codes)
    assert not set(more) & set(codes)


def test_drawn_codes_carry_the_check_symbol_of_their_payload() -> None:
    codes = draw_codes(5000)  # the vectorised draw against the one-code Luhn
    assert all(c[-1] == check_symbol(c[:-1]) for c in codes)
    assert len({c[0] for c in codes}) == len(ALPHABET) and len({c[10] for c in codes}) == len(ALPHABET)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=11, max_size=11), st.integers(0, 11), st.sampled_from(ALPHABET))
def test_check_symbol_catches_every_single_substitution(payload: str, pos: int, ch: str) -> None:
    code = payload + check_symbol(payload)
    assert is_valid(code)
    typo = code[:pos] + ch + code[pos + 1 :]
    assert is_valid(typo) == (typo == code)


@pytest.mark.usefixtures("english")
def test_validate_normalises_and_explains() -> None:
    code = new_codes(1)[0]
    assert validate(display(code).lower()) == code
    assert display(code).count("-") == 2
    with pytest.raises(InputError, match="not a coupon code"):
        validate("O0I1-AAAA-BBBB")
    bad = code[:-1] + next(c for c in ALPHABET if c != code[-1])
    with pytest.raises(InputError, match="check symbol"):
        validate(bad)


def test_qr_images(tmp_path: Path) -> None:
    code = new_codes(1)[0]
    q = qr(display(code))
    assert q.mode == "alphanumeric" and q.version == 1  # 21×21 modules: easy for any till scanner
    png = save_qr(code, tmp_path / "c.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in save_qr(code, tmp_path / "c.svg").read_text()
    with pytest.raises(InputError):
        save_qr(code, tmp_path / "c.jpg")


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from([0.05, 0.1, 0.2, 0.3, 0.5]),
    st.integers(1, 4),
    st.lists(st.integers(0, 25), min_size=1, max_size=600),
)
def test_balance_bounds_hold_for_any_audience(holdout: float, k: int, strata_of: list[int]) -> None:
    arms = arm_specs(holdout, [f"V{i}" for i in range(k)])
    members = [(f"M{i}", f"s{s}") for i, s in enumerate(strata_of)]
    got = assign("CP", members, arms)
    total = Counter(got.values())
    for a in arms:  # globally within one member of the share
        assert abs(total[a.key] - a.share * len(members)) < 1.0 + 1e-9
    by: dict[str, list[str]] = {}
    for m, s in members:
        by.setdefault(s, []).append(m)
    for ids in by.values():  # per stratum within two members (the running counts carry across strata)
        c = Counter(got[m] for m in ids)
        for a in arms:
            assert abs(c[a.key] - a.share * len(ids)) < 2.0
