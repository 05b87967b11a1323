"""The winner rule on constructed outcomes: named only when the evidence separates the variants."""

from __future__ import annotations

import numpy as np
import pytest

from winback.campaigns.report import compare_arms, pick_winner


def _rows(arm: str, n: int, rate: float, amount: float, seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    bought = rng.random(n) < rate
    return [
        {
            "arm": arm,
            "purchased": int(b),
            "revenue": float(amount * rng.gamma(2, 0.5)) if b else 0.0,
            "contacted": 1,
            "redeemed": 0,
            "discount": 0.0,
        }
        for b in bought
    ]


def _winner(rows: list[dict[str, object]], arms: list[str]) -> dict[str, object]:
    out = compare_arms(rows, arms, 1.0, 0.6, 0.05)
    return pick_winner(out.pop("_by_arm"), out["versus_control"], 0.05)


def test_clear_winner_is_named() -> None:
    rows = _rows("control", 3000, 0.05, 300, 1) + _rows("A", 3000, 0.20, 300, 2) + _rows("B", 3000, 0.08, 300, 3)
    w = _winner(rows, ["control", "A", "B"])
    assert w["winner"] == "A"
    assert all(p["p_holm"] < 0.05 for p in w["pairs"])  # type: ignore[attr-defined]


@pytest.mark.usefixtures("english")
def test_equal_variants_give_no_winner() -> None:
    a = _rows("A", 2000, 0.10, 300, 5)
    b = [{**r, "arm": "B"} for r in a]  # the same outcomes: both beat control, neither beats the other
    w = _winner(_rows("control", 2000, 0.05, 300, 4) + a + b, ["control", "A", "B"])
    assert w["winner"] is None and "no variant" in str(w["reason"])


def test_variant_worse_than_control_cannot_win() -> None:
    rows = _rows("control", 3000, 0.20, 300, 7) + _rows("A", 3000, 0.10, 300, 8) + _rows("B", 3000, 0.02, 300, 9)
    assert _winner(rows, ["control", "A", "B"])["winner"] is None


def test_single_variant_has_no_contest_and_roi_follows_its_formula() -> None:
    rows = _rows("control", 1000, 0.05, 300, 10) + _rows("A", 1000, 0.15, 300, 11)
    out = compare_arms(rows, ["control", "A"], 2.0, 0.5, 0.05)
    v = out["versus_control"]["A"]
    assert v["cost"] == 2000.0
    assert v["incremental_roi"] == pytest.approx((v["incremental_revenue"] * 0.5 - 2000.0) / 2000.0)
    assert v["incremental_roi_ci"][0] < v["incremental_roi"] < v["incremental_roi_ci"][1]
    assert pick_winner(out.pop("_by_arm"), out["versus_control"], 0.05)["winner"] is None
