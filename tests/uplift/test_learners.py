"""The T- and X-learners find who a touch moves on a randomized experiment with a known effect; bad input is a
clear error. The targeting rule keeps, explores and drops members as documented."""

from __future__ import annotations

import numpy as np
import pytest

from winback.errors import InputError, ModelError
from winback.i18n import using
from winback.models.uplift import BoostingParams, encode_features, fit_uplift, learn_features, split_rows
from winback.uplift.targeting import Capacity, decide, parse_capacity, parse_target

FAST = BoostingParams(max_iter=40, seed=1)


def _experiment(n: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    loyal = rng.random(n)
    aov = rng.gamma(3, 100, n)
    tier = rng.choice(np.array(["金卡", "银卡", "普通"], dtype=object), n)
    arms = np.where(rng.random(n) < 0.5, "A", "control").astype(object)
    p0 = 0.05 + 0.4 * loyal
    tau = 0.3 * (1 - loyal) ** 2 * np.clip(aov / 300, 0, 3)
    bought = rng.random(n) < np.minimum(p0 + (arms == "A") * tau, 0.95)
    cols = {"loyal": loyal, "aov": aov, "tier": tier, "noise": rng.normal(size=n)}
    return cols, arms, bought.astype(float), tau


@pytest.mark.parametrize("learner", ["t", "x"])
def test_learners_rank_by_the_true_effect(learner: str) -> None:
    cols, arms, y, _tau = _experiment(6000, 4)
    spec = learn_features(cols)
    assert spec.categories["tier"] == ("普通", "金卡", "银卡") and "loyal" not in spec.categories
    x = encode_features(spec, cols)
    model = fit_uplift(x, arms, y, features=spec, control="control", learner=learner, params=FAST)
    fresh, _arms, _y, tau_fresh = _experiment(3000, 5)
    pred = model.predict(encode_features(spec, fresh))["A"]
    assert np.corrcoef(pred, tau_fresh)[0, 1] > 0.6
    top = np.argsort(-pred)[:900]
    assert tau_fresh[top].sum() > 1.7 * tau_fresh.mean() * 900  # the top 30 % hold far more effect than random


def test_continuous_outcome_and_several_arms() -> None:
    cols, arms, y, _tau = _experiment(4000, 6)
    arms = np.where(arms == "A", np.where(np.arange(len(arms)) % 2 == 0, "A", "B"), "control").astype(object)
    revenue = y * cols["aov"]
    spec = learn_features(cols)
    model = fit_uplift(encode_features(spec, cols), arms, revenue, features=spec, control="control", learner="x",
                       outcome_kind="continuous", params=FAST)  # fmt: skip
    out = model.predict(encode_features(spec, cols))
    assert set(out) == {"A", "B"} and all(v.shape == (4000,) for v in out.values())
    assert model.baseline(encode_features(spec, cols)).shape == (4000,)


@using("en")
def test_bad_experiments_are_clear_errors() -> None:
    cols, arms, y, _ = _experiment(400, 7)
    spec = learn_features(cols)
    x = encode_features(spec, cols)
    with pytest.raises(ModelError, match="control arm 'holdout'"):
        fit_uplift(x, arms, y, features=spec, control="holdout")
    with pytest.raises(ModelError, match="too few members"):
        fit_uplift(x[:40], arms[:40], y[:40], features=spec, control="control")
    with pytest.raises(ModelError, match="unknown learner"):
        fit_uplift(x, arms, y, features=spec, control="control", learner="s")
    with pytest.raises(ModelError, match="no column tier"):
        encode_features(spec, {k: v for k, v in cols.items() if k != "tier"})
    with pytest.raises(ModelError, match="mixes numbers and text"):
        encode_features(spec, {**cols, "aov": np.array(["x"] * 400, dtype=object)})


def test_split_is_stratified_and_seeded() -> None:
    arms = np.array(["A"] * 700 + ["control"] * 300)
    m = split_rows(arms, 0.3, 9)
    assert (m[:700].sum(), m[700:].sum()) == (210, 90)
    assert (m == split_rows(arms, 0.3, 9)).all() and not (m == split_rows(arms, 0.3, 10)).all()


def test_decide_keeps_the_best_explores_and_names_the_dropped() -> None:
    net = np.array([5.0, 4.0, 3.0, 2.0, 1.0, -1.0, -2.0, -3.0, -4.0, -5.0] * 10)
    base = np.tile(np.array([0, 0, 0, 0, 0, 9, 9, 0, 0, 9.0]), 10)
    cost = np.full(100, 2.0)
    d = decide(net, base, cost, Capacity(share=0.3), explore=0.1, seed=1)
    counts = {k: int((d == k).sum()) for k in ("target", "explore", "sure_thing", "no_response", "over_budget")}
    assert counts["target"] == 27 and counts["explore"] == 3 and sum(counts.values()) == 100
    assert (net[d == "target"] >= net[d == "over_budget"].max()).all()
    assert set(np.flatnonzero(d == "sure_thing")) <= set(np.flatnonzero(base >= np.median(base)))
    assert ((d == "no_response") <= (net <= 0)).all() and ((d == "over_budget") <= (net > 0)).all()
    money = decide(net, base, cost, Capacity(money=20.0), explore=0.0)
    assert int((money == "target").sum()) == 10  # ten touches at 2.0 each
    everyone_positive = decide(net, base, cost, Capacity(), explore=0.0)
    assert ((everyone_positive == "target") == (net > 0)).all()
    stake = decide(np.arange(10.0), np.arange(10.0), np.ones(10), Capacity(top=3), explore=0.0, fallback=True)
    assert list(np.flatnonzero(stake == "target")) == [7, 8, 9] and (stake[:7] == "over_budget").all()


@using("en")
def test_parse_capacity_and_target() -> None:
    assert parse_capacity("30%", None) == Capacity(share=0.3)
    assert parse_capacity("0.25", None) == Capacity(share=0.25)
    assert parse_capacity("5000", None) == Capacity(money=5000.0)
    assert parse_capacity(None, 50) == Capacity(top=50)
    assert parse_target("uplift") is None and parse_target("uplift:U0002") == "U0002"
    for bad in (("lots", None), ("-3", None), ("30%", 5)):
        with pytest.raises(InputError):
            parse_capacity(*bad)
    with pytest.raises(InputError, match="--target uplift"):
        parse_target("clv")


def test_large_arms_are_fitted_on_a_seeded_sample() -> None:
    from winback.models.uplift import _cap_rows

    x = np.arange(3000, dtype=np.float32).reshape(-1, 1)
    arms = np.array(["A"] * 2000 + ["control"] * 1000)
    y = np.arange(3000.0)
    cx, ca, cy = _cap_rows(x, arms, y, 500, 1)
    assert (ca == "A").sum() == 500 and (ca == "control").sum() == 500
    assert (np.diff(cx[:, 0]) > 0).all() and (cx[:, 0] == cy).all()  # rows keep their order and their outcome
    assert (_cap_rows(x, arms, y, 500, 1)[0] == cx).all()
    assert _cap_rows(x, arms, y, 5000, 1)[0] is x
