"""Refresh with the customer-base models: fits stored, predictions joined back per unique exact-day history."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from lc_helpers import add_members, add_orders

from winback import i18n
from winback.engine import DuckDBEngine
from winback.errors import ModelError
from winback.lifecycle.modelling import alive_params, expected_value, fit_purchase_model, p_alive_sql
from winback.lifecycle.refresh import refresh
from winback.models import GammaGammaFitter, ModifiedBetaGeoFitter

AS_OF = dt.date(2024, 1, 1)


def _brand(con: duckdb.DuckDBPyConnection, n: int = 400, seed: int = 7) -> None:
    """Members buying as Poisson processes with rates ~ Gamma and dropout p ~ Beta after each purchase (BG/NBD)."""
    rng = np.random.default_rng(seed)
    add_members(con, [(f"c{i}", "2022-01-01", None, None, None, None, None) for i in range(n)])
    start = dt.datetime(2022, 1, 1, 10)
    rows, k = [], 0
    for i in range(n):
        lam = rng.gamma(0.8, 1 / 25)  # purchases per day
        p_drop = rng.beta(2.0, 8.0)  # heterogeneous dropout after each purchase (BG/NBD)
        day = float(rng.integers(0, 300))
        while day < 729:
            amount = round(float(rng.gamma(4, 30)), 2)
            rows.append((f"o{k}", f"c{i}", (start + dt.timedelta(days=int(day))).isoformat(sep=" "), amount, "paid"))
            k += 1
            if rng.random() < p_drop:
                break
            day += rng.exponential(1 / lam)
    add_orders(con, rows)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    from winback.warehouse import connect

    con = connect(tmp_path_factory.mktemp("lc_models") / "m.duckdb")
    _brand(con)
    wh = DuckDBEngine(con)
    refresh(wh, wh, AS_OF)
    yield con
    con.close()


def test_fits_are_stored(fitted: duckdb.DuckDBPyConnection) -> None:
    fits = {
        r[0]: r[1:]
        for r in fitted.execute("SELECT model, params, time_unit, loglik, converged, n FROM model_fits").fetchall()
    }
    assert set(fits) == {"mbg_nbd", "gamma_gamma"}
    params, unit, loglik, converged, n = fits["mbg_nbd"]
    assert set(json.loads(params)) == {"r", "alpha", "a", "b"}
    assert unit == "weeks" and np.isfinite(loglik) and converged
    assert n == fitted.execute("SELECT count(*) FROM member_snapshot WHERE orders > 0").fetchone()[0]
    assert set(json.loads(fits["gamma_gamma"][0])) == {"p", "q", "v"}


def test_predictions_match_the_model_per_member(fitted: duckdb.DuckDBPyConnection) -> None:
    bg = ModifiedBetaGeoFitter.from_dict(
        {
            "model": "mbg_nbd",
            "params": json.loads(fitted.execute("SELECT params FROM model_fits WHERE model = 'mbg_nbd'").fetchone()[0]),
            "time_unit": "weeks",
        }
    )
    gg_params = json.loads(fitted.execute("SELECT params FROM model_fits WHERE model = 'gamma_gamma'").fetchone()[0])
    gg = GammaGammaFitter.from_dict({"model": "gamma_gamma", "params": gg_params})
    rows = fitted.execute(
        "SELECT frequency, span_days, first_purchase_days, p_alive, expected_purchases_90d, purchase_days, "
        "monetary, expected_value, clv, expected_revenue_90d, clv_flag FROM member_snapshot WHERE orders > 0"
    ).fetchall()
    assert len(rows) > 300
    x = np.array([r[0] for r in rows], dtype=float)
    # issue 9: exact days, not floored weeks; T runs to the last day observed (the day before as-of)
    t_x = np.array([r[1] for r in rows], dtype=float) / 7.0
    big_t = (np.array([r[2] for r in rows], dtype=float) - 1.0) / 7.0
    # P(alive) is computed in SQL as 1 / (1 + e^d) (migration 018); the model's 1 - expit(d) loses ~1e-16 in
    # absolute terms to cancellation when P(alive) is tiny, hence the absolute tolerance
    np.testing.assert_allclose([r[3] for r in rows], bg.p_alive(x, t_x, big_t), rtol=1e-9, atol=1e-15)
    e90 = bg.conditional_expected_purchases(90 / 7, x, t_x, big_t)
    np.testing.assert_allclose([r[4] for r in rows], e90, rtol=1e-9, atol=1e-15)
    # value in one unit: Gamma-Gamma per purchase day (n = purchase days, mean value per purchase day)
    n_days = np.array([r[5] for r in rows], dtype=float)
    per_day = np.array([float(r[6]) for r in rows]) / n_days
    value = np.array([r[7] for r in rows])
    np.testing.assert_allclose(value, gg.conditional_expected_value(n_days, per_day), rtol=1e-9)
    assert rows[0][7] == pytest.approx(expected_value(gg_params, rows[0][5], float(rows[0][6]) / rows[0][5]))
    e365 = bg.conditional_expected_purchases(365 / 7, x, t_x, big_t)
    np.testing.assert_allclose([r[8] for r in rows], e365 * value, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([r[9] for r in rows], e90 * value, rtol=1e-9, atol=1e-12)
    assert {r[10] for r in rows} == {None}  # both fits converged: nothing flagged


def test_p_alive_drives_the_lifecycle_stages(fitted: duckdb.DuckDBPyConnection) -> None:
    # issue 9 replaced "overdue >= 3 or P(alive) < 0.2 -> churned" (it called a member who bought 3 days ago
    # churned): churn now also needs 180 days of silence and 1.5 cycles overdue
    rows = fitted.execute(
        "SELECT lifecycle_stage, p_alive, overdue_ratio, purchase_days, recency_days FROM member_snapshot "
        "WHERE orders > 0"
    ).fetchall()
    for stage, p_alive, overdue, days, recency in rows:
        if recency >= 180 and overdue >= 1.5 and (p_alive < 0.2 or overdue >= 3 or recency > 730):
            assert stage == "churned"
        else:
            assert stage != "churned"
        if stage == "active_repeat":
            assert days >= 2 and p_alive >= 0.5 and overdue < 1.5 and recency < 90
    assert {r[0] for r in rows} >= {"churned", "active_repeat"}


def test_one_time_buyers_can_be_gone(fitted: duckdb.DuckDBPyConnection) -> None:
    """The reason the refresh uses MBG/NBD: under BG/NBD every one-time buyer has P(alive) = 1, however long ago."""
    rows = fitted.execute(
        "SELECT recency_days, p_alive FROM member_snapshot WHERE purchase_days = 1 ORDER BY recency_days"
    ).fetchall()
    assert len(rows) > 20
    p = np.array([r[1] for r in rows])
    assert (p < 1).all() and (p > 0).all()
    assert p[-1] < p[0]  # the one-time buyer from longest ago is the least likely to be alive


def test_classic_bg_nbd_on_request_and_unknown_model_refused() -> None:
    rng = np.random.default_rng(3)
    n = 300
    x = rng.poisson(1.5, n)
    big_t = np.full(n, 52)
    t_x = np.where(x > 0, rng.integers(1, 52, n), 0)
    triples = pa.table({"x": x, "t_x": t_x, "T": big_t, "n": np.ones(n, dtype=np.int64)})
    preds = fit_purchase_model(triples, "bg_nbd")
    assert preds.fit is not None and preds.fit.name == "bg_nbd"
    # P(alive) is computed in SQL from the fit (modelling.p_alive_sql); the table keeps (x, T) only
    assert preds.table is not None and set(preds.table.column_names) == {"x", "T", "if_90", "if_365"}
    alive_sql = p_alive_sql(alive_params(preds), "x", "t_x", "T")  # type: ignore[arg-type]
    with duckdb.connect() as con:
        con.register("h", pa.table({"x": x, "t_x": t_x, "T": big_t}))
        alive = np.array([r[0] for r in con.execute(f"SELECT {alive_sql} FROM h").fetchall()])
    assert (alive[x == 0] == 1).all()  # BG/NBD's known property
    with pytest.raises(ModelError, match="未知的购买模型"):
        fit_purchase_model(triples, "pareto")
    with i18n.using("en"), pytest.raises(ModelError, match="unknown purchase model"):
        fit_purchase_model(triples, "pareto")
