"""Statistics equal scipy's (and hand computations) on fixed data; properties of the helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from winback.campaigns.stats import (
    Summary,
    holm,
    incremental_revenue,
    incremental_roi,
    mde_mean,
    mde_proportion,
    two_proportions,
    welch,
    welch_samples,
)

TREATED = [12.0, 0.0, 0.0, 35.5, 0.0, 80.0, 0.0, 0.0, 22.0, 0.0, 199.0, 0.0]
CONTROL = [0.0, 0.0, 15.0, 0.0, 0.0, 0.0, 40.0, 0.0]


def test_welch_equals_scipy_on_fixed_data() -> None:
    res = welch_samples(TREATED, CONTROL)
    ref = sps.ttest_ind(TREATED, CONTROL, equal_var=False)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    ci = ref.confidence_interval(0.95)
    assert res.ci_low == pytest.approx(ci.low, rel=1e-10)
    assert res.ci_high == pytest.approx(ci.high, rel=1e-10)
    assert res.df == pytest.approx(ref.df, rel=1e-12)
    assert res.diff == pytest.approx(np.mean(TREATED) - np.mean(CONTROL))


def test_welch_golden_numbers() -> None:
    # hand computation: means 29.041667 and 6.875, variances by ddof=1
    res = welch(Summary(12, 29.0416666667, 3209.5890151515), Summary(8, 6.875, 212.4107142857))
    assert res.diff == pytest.approx(22.1666666667, rel=1e-9)
    se = math.sqrt(3209.5890151515 / 12 + 212.4107142857 / 8)
    assert res.se == pytest.approx(se, rel=1e-9)
    assert res.statistic == pytest.approx(22.1666666667 / se, rel=1e-9)


def test_two_proportions_by_hand() -> None:
    # 120/1000 treated vs 80/1000 control
    res = two_proportions(120, 1000, 80, 1000)
    pooled = 200 / 2000
    z = 0.04 / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert res.statistic == pytest.approx(z, rel=1e-12)
    assert res.statistic == pytest.approx(2.9814239699997196, rel=1e-12)
    assert res.p_value == pytest.approx(2 * sps.norm.sf(z), rel=1e-12)
    se = math.sqrt(0.12 * 0.88 / 1000 + 0.08 * 0.92 / 1000)
    assert res.ci_low == pytest.approx(0.04 - 1.959963984540054 * se, rel=1e-9)
    assert res.ci_high == pytest.approx(0.04 + 1.959963984540054 * se, rel=1e-9)


def test_two_proportions_z_squared_equals_chi_square_without_correction() -> None:
    table = np.array([[57, 443], [38, 462]])
    chi2 = sps.chi2_contingency(table, correction=False)
    res = two_proportions(57, 500, 38, 500)
    assert res.statistic**2 == pytest.approx(chi2.statistic, rel=1e-10)
    assert res.p_value == pytest.approx(chi2.pvalue, rel=1e-10)


def test_undefined_cases_are_none_not_nan() -> None:
    assert welch(Summary(0, math.nan, 0.0), Summary(5, 1.0, 1.0)).diff is None
    flat = welch_samples([1.0, 1.0, 1.0], [1.0, 1.0])
    assert flat.diff == 0.0 and flat.p_value is None
    assert two_proportions(0, 10, 0, 10).p_value is None


def test_mde_matches_textbook_formula() -> None:
    # 2.8 = z(0.975) + z(0.8); p0 = 0.1, 9000 vs 1000
    expected = (1.959963984540054 + 0.8416212335729143) * math.sqrt(0.09 * (1 / 9000 + 1 / 1000))
    assert mde_proportion(0.1, 9000, 1000) == pytest.approx(expected, rel=1e-12)
    assert mde_mean(50.0, 100, 100) == pytest.approx(2.8015852181 * 50 * math.sqrt(0.02), rel=1e-9)
    assert mde_proportion(0.0, 10, 10) is None


def test_incremental_revenue_and_roi() -> None:
    t, c = Summary.of(TREATED), Summary.of(CONTROL)
    inc = incremental_revenue(t, c)
    per = welch(t, c)
    assert inc.diff == pytest.approx(per.diff * 12)
    assert inc.ci_low == pytest.approx(per.ci_low * 12)
    assert inc.p_value == per.p_value
    assert incremental_roi(1000.0, 0.6, 200.0) == pytest.approx(2.0)
    assert incremental_roi(1000.0, 0.6, 0.0) is None


def test_holm_against_hand_computation() -> None:
    assert holm([0.01, 0.04, 0.03, None]) == pytest.approx([0.03, 0.06, 0.06, None])  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")  # scipy, on near-equal samples
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1e4, allow_nan=False), min_size=2, max_size=40),
    st.lists(st.floats(0, 1e4, allow_nan=False), min_size=2, max_size=40),
)
def test_welch_matches_scipy_property(a: list[float], b: list[float]) -> None:
    res = welch_samples(a, b)
    if res.p_value is None:
        assert np.var(a) + np.var(b) < 1e-9 or res.se == 0.0
        return
    ref = sps.ttest_ind(a, b, equal_var=False)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-6, abs=1e-9)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)
    assert res.ci_low <= res.diff <= res.ci_high  # type: ignore[operator]


def test_tiny_variances_do_not_underflow() -> None:
    # found by hypothesis: v**2 underflowed to 0 in the Welch–Satterthwaite denominator
    a, b = [0.0, 0.0], [0.0, 1.291798962575117e-151]
    res = welch_samples(a, b)
    ref = sps.ttest_ind(a, b, equal_var=False)
    assert res.statistic == pytest.approx(ref.statistic) and res.p_value == pytest.approx(ref.pvalue)
    assert res.df == pytest.approx(1.0)
