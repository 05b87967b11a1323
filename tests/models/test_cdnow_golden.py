"""Published CDNOW results (2,357-customer sample, 39-week calibration, weeks) reproduced to their precision."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pytest

from winback.models import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, compress
from winback.models.inputs import FloatArray

from .conftest import CDNOW

Histories = tuple[FloatArray, FloatArray, FloatArray]
PUBLISHED_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def bg(cdnow: Histories) -> BetaGeoFitter:
    return BetaGeoFitter("weeks").fit(*cdnow)


def test_bgnbd_parameters_and_loglik_match_fader_hardie_lee_2005(bg: BetaGeoFitter) -> None:
    assert bg.converged_ and bg.warning_ is None
    for name, value in PUBLISHED_BG.items():
        assert round(bg.params_[name], 3) == value, name
    assert round(bg.loglik_, 1) == -9582.4
    assert bg.n_ == 2357 and bg.time_unit == "weeks"


def test_fit_on_compressed_triples_equals_fit_on_raw(cdnow: Histories, bg: BetaGeoFitter) -> None:
    x, t_x, T, counts = compress(*cdnow)
    assert counts.sum() == 2357 and len(x) < 2357
    comp = BetaGeoFitter().fit(x, t_x, T, weights=counts)
    assert comp.n_ == 2357 and comp.n_unique_ == len(x) == bg.n_unique_
    assert comp.loglik_ == pytest.approx(bg.loglik_, abs=1e-6)
    for name in PUBLISHED_BG:
        assert comp.params_[name] == pytest.approx(bg.params_[name], rel=1e-5)


def test_conditional_expectation_of_customer_1_matches_hardie_spreadsheet(bg: BetaGeoFitter) -> None:
    assert round(float(bg.conditional_expected_purchases(39, 2, 30.43, 38.86)), 3) == 1.226


def test_unconditional_expected_purchases_match_published_curve(bg: BetaGeoFitter) -> None:
    t = np.array([0.1429, 1, 3, 31.8571, 32, 78])
    published = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    got = bg.expected_purchases(t)
    # the first five agree at the published 4 decimals; at t=78 the sheet's rounded solver parameters give 1.8576,
    # the exact MLE 1.8580, so that point is checked to 3 decimals
    np.testing.assert_array_equal(np.round(got[:5], 4), published[:5])
    assert round(float(got[5]), 3) == round(float(published[5]), 3)


def test_pmf_at_published_parameters_matches_btyd() -> None:
    m = BetaGeoFitter.from_dict({"model": "bg_nbd", "params": PUBLISHED_BG, "time_unit": "weeks"})
    assert float(m.probability_of_purchases(39, 0)) == pytest.approx(0.5737864, abs=5e-8)
    assert float(m.probability_of_purchases(2, 10)) == pytest.approx(1.07869e-07, rel=1e-5)
    # the pmf is a distribution with the model's mean
    k = np.arange(400)
    pmf = m.probability_of_purchases(39, k)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert float(k @ pmf) == pytest.approx(float(m.expected_purchases(39)), rel=1e-6)


def test_mbgnbd_parameters_match_btydplus() -> None:
    d = np.loadtxt(CDNOW / "cdnow_customers_summary.csv", delimiter=",", skiprows=1)
    m = ModifiedBetaGeoFitter().fit(d[:, 1], d[:, 2], d[:, 3])
    assert m.converged_
    for name, value in {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}.items():
        assert round(m.params_[name], 3) == value, name
    k = np.arange(400)
    assert float(k @ m.probability_of_purchases(39, k)) == pytest.approx(float(m.expected_purchases(39)), rel=1e-6)


def test_gamma_gamma_matches_fader_hardie_2013(cdnow_spend: FloatArray) -> None:
    rep = cdnow_spend[cdnow_spend[:, 1] > 0]
    assert len(rep) == 946
    gg = GammaGammaFitter().fit(rep[:, 1], rep[:, 4])
    assert gg.converged_ and gg.n_ == 946
    assert round(gg.params_["p"], 2) == 6.25 and round(gg.params_["q"], 2) == 3.74
    # the exact MLE is v = 15.4477 (also SOURCE.txt's independent fit); the note prints 15.44, so allow its last digit
    assert gg.params_["v"] == pytest.approx(15.44, abs=0.01)
    first10 = gg.conditional_expected_value(cdnow_spend[:10, 1], cdnow_spend[:10, 4])
    published = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    # nine agree at 2 decimals; customer 1 is 24.6586 (published 24.65), so allow one unit in the last digit
    np.testing.assert_allclose(first10, published, atol=0.01)
    assert int(np.sum(np.round(first10, 2) == published)) == 9


def test_histories_derived_from_transactions_equal_the_summary_file(cdnow: Histories) -> None:
    """Same-day purchases merged, weeks = days / 7, calibration ends 1997-09-30."""
    end = dt.date(1997, 9, 30)
    days: dict[int, set[dt.date]] = defaultdict(set)
    for line in (CDNOW / "CDNOW_sample.txt").read_text().splitlines():
        _, sample_id, date, _, _ = line.split()
        day = dt.datetime.strptime(date, "%Y%m%d").date()
        if day <= end:
            days[int(sample_id)].add(day)
    ids = sorted(days)
    assert ids == list(range(1, 2358))
    x = np.array([len(days[i]) - 1 for i in ids], dtype=float)
    t_x = np.array([(max(days[i]) - min(days[i])).days / 7 for i in ids])
    T = np.array([(end - min(days[i])).days / 7 for i in ids])
    np.testing.assert_array_equal(x, cdnow[0])
    np.testing.assert_allclose(t_x, cdnow[1], atol=0.005 + 1e-9)
    np.testing.assert_allclose(T, cdnow[2], atol=0.005 + 1e-9)
