from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from winback.models.inputs import FloatArray

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow"


def _csv(name: str) -> FloatArray:
    return np.loadtxt(CDNOW / name, delimiter=",", skiprows=1)


@pytest.fixture(scope="session")
def cdnow() -> tuple[FloatArray, FloatArray, FloatArray]:
    """(x, t_x, T) of the 2,357 CDNOW sample customers, 39-week calibration."""
    d = _csv("cdnow_customers_summary.csv")
    return d[:, 1], d[:, 2], d[:, 3]


@pytest.fixture(scope="session")
def cdnow_spend() -> FloatArray:
    """ID, x, t_x, T, zbar of the same customers."""
    return _csv("cdnow_customers_summary_with_transactions.csv")
