"""The launch's chi-square balance test equals scipy's (the launch no longer imports scipy for it)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from winback.campaigns.chi2 import chi2_sf, independence_p


@pytest.mark.parametrize("df", [1, 2, 3, 5, 10, 39, 78, 200, 1000])
def test_survival_function_equals_scipy(df: int) -> None:
    for x in [1e-6, 0.01, 0.5, 1.0, df / 2, df - 1, df, df + 1, df + 2, 2 * df, 3 * df + 20, 10 * df + 100]:
        want = float(sps.chi2.sf(x, df))
        assert chi2_sf(x, df) == pytest.approx(want, rel=1e-9, abs=1e-300), (x, df)
    assert chi2_sf(0.0, df) == 1.0


def test_independence_equals_chi2_contingency() -> None:
    rng = np.random.default_rng(7)
    for shape in [(2, 2), (2, 3), (3, 2), (5, 3), (40, 3), (2, 4), (1, 3), (3, 1)]:
        for _ in range(40):
            p = rng.dirichlet(np.ones(shape[0] * shape[1]))
            n = int(rng.integers(20, 100_000))
            m = rng.multinomial(n, p).reshape(shape) + 1
            if rng.random() < 0.3:  # strongly dependent tables too (tiny p-values)
                m[0, 0] += n
            want = float(sps.chi2_contingency(m).pvalue)
            assert independence_p(m.tolist()) == pytest.approx(want, rel=1e-9, abs=1e-300), m.tolist()
