"""Issue 14: between refits an incremental refresh carries the previous snapshot's predictions and cohort priors
(refresh._plan) instead of reading every member again. What it carries must be what a recomputation gives.

Random sequences of imports, status changes, member record changes, merges and undos (the Brand of
test_incremental_refresh) with refreshes that reuse the fit: after every refresh, every purchaser's history
(x, T) has a prediction row at that date, each row is exactly the reused model's expectation for it (whether
computed today or carried), P(alive) and expected purchases are never missing, and the cohort priors of a date
that reused the fit are those of the previous date, and the quintile breakpoints are those of the snapshot.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_incremental_refresh import FIRST_AS_OF, Brand, step_st

from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle.modelling import ModelFit, _model_with
from winback.lifecycle.quintiles import breakpoints
from winback.lifecycle.refresh import refresh


def _check_date(db: DuckDBEngine, as_of: dt.date) -> None:
    settings_json = db.fetchall("SELECT settings FROM snapshot_runs WHERE as_of = ?", [as_of])[0][0]
    fit = json.loads(settings_json)["fit"]
    if not fit.get("purchase"):
        return
    want = db.fetchall(
        'SELECT DISTINCT purchase_days - 1 AS x, first_purchase_days - 1 AS "T" FROM member_snapshot '
        "WHERE as_of = ? AND purchase_days >= 1 ORDER BY 1, 2",
        [as_of],
    )
    stored = {
        (x, t): (e90, e365)
        for x, t, e90, e365 in db.fetchall(
            'SELECT x, "T", if_90, if_365 FROM snapshot_predictions_xt WHERE as_of = ?', [as_of]
        )
    }
    assert {(x, t) for x, t in want} <= set(stored), "a purchaser's history has no prediction"
    p = fit["purchase"]
    model = _model_with(ModelFit(p["name"], p["params"], p["time_unit"], None, None, 0), fit["purchase_days_params"])
    pairs = sorted(stored)
    x = np.array([k[0] for k in pairs], dtype=float)
    big_t = np.array([k[1] for k in pairs], dtype=float)
    assert [stored[k][0] for k in pairs] == model.expected_if_alive(90.0, x, big_t).tolist()
    assert [stored[k][1] for k in pairs] == model.expected_if_alive(365.0, x, big_t).tolist()
    values = {
        "r": "recency_days",
        "f": "orders",
        "m": "CAST(FLOOR(CAST(monetary AS DOUBLE)) AS DOUBLE)",
    }
    for key, expr in values.items():  # the breakpoints (made without the per-member table between refits)
        rows = db.fetchall(
            f"SELECT {expr}, count(*) FROM member_snapshot WHERE as_of = ? AND purchase_days >= 1 GROUP BY 1",
            [as_of],
        )
        expected = breakpoints([float(v) for v, _n in rows], [n for _v, n in rows])
        assert json.loads(settings_json)["breakpoints"][key] == expected
    missing = db.fetchall(
        "SELECT count(*) FROM member_snapshot WHERE as_of = ? AND purchase_days >= 1 "
        "AND (p_alive IS NULL OR expected_purchases_90d IS NULL)",
        [as_of],
    )
    assert missing[0][0] == 0


def _priors(db: DuckDBEngine, as_of: dt.date) -> list[tuple[Any, ...]]:
    return db.fetchall(
        "SELECT tier_key, store_key, prior_days, prior_source FROM snapshot_priors WHERE as_of = ? ORDER BY ALL",
        [as_of],
    )


@given(steps=st.lists(step_st, max_size=8))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_carried_predictions_and_priors_are_the_reused_fits(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        brand = Brand(Path(tmp), 40)  # enough buyers for the models to fit (the steps touch the first six)
        brand.dbs = brand.dbs[:1]
        brand.members()
        brand.add_orders([(i % 40, (7 * i) % 55, 50 + i, True) for i in range(120)])
        as_of = FIRST_AS_OF
        db = brand.dbs[0]
        assert refresh(db, db, as_of).model is not None
        for step in [*steps, ("refresh", 1)]:
            if not brand.write(step):
                before = as_of
                as_of += dt.timedelta(days=min(step[1], 6))
                result = refresh(db, db, as_of, refit_change=10.0)  # reuse the fit until it is a week old
                _check_date(db, as_of)
                assert result.fit is not None
                if not result.fit["refit"] and result.facts and result.facts["mode"] == "incremental":
                    new = {r[:2] for r in _priors(db, as_of)} - {r[:2] for r in _priors(db, before)}
                    if not new:  # no new cohort: the priors are held with the fit
                        assert _priors(db, as_of) == _priors(db, before)
        db.close()
