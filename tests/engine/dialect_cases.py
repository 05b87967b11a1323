"""Shared fixture rows and DuckDB-dialect queries that must give the same answer on DuckDB and on Spark."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Sequence

import pyarrow as pa

D = decimal.Decimal


def fixture_table() -> pa.Table:
    """Orders-like rows with the awkward parts: midnight crossings, NULLs, ties, refunds, DECIMAL amounts."""
    ts = dt.datetime
    rows = [
        ("m1", ts(2024, 1, 1, 23, 0), D("10.10"), "paid", dt.date(2023, 12, 1), 1.5, 3),
        ("m1", ts(2024, 1, 2, 1, 0), D("20.20"), "paid", dt.date(2023, 12, 1), 2.5, None),
        ("m1", ts(2024, 3, 31, 12, 0), D("-5.05"), "refunded", dt.date(2023, 12, 1), None, 1),
        ("m2", ts(2023, 12, 31, 23, 59, 59), D("99.99"), "paid", None, 7.25, 2),
        ("m2", ts(2024, 2, 29, 0, 0), D("0.01"), "cancelled", None, 7.25, 2),
        ("m3", ts(2022, 6, 15, 8, 30), D("1234.56"), "paid", dt.date(2020, 2, 29), -3.0, 5),
        ("m3", ts(2024, 11, 30, 18, 0), D("33.33"), "paid", dt.date(2020, 2, 29), 0.0, 4),
        ("m4", ts(2024, 5, 5, 5, 5), D("66.67"), "paid", dt.date(2024, 5, 5), 10.0, 2),
        ("m5", ts(2024, 5, 5, 5, 5), D("66.67"), "paid", dt.date(2019, 1, 31), 10.0, 2),
        ("m6", ts(2021, 1, 31, 0, 0), D("1.00"), "paid", dt.date(2021, 1, 1), 4.0, None),
    ]
    cols = list(zip(*rows, strict=True))
    return pa.table(
        {
            "member_id": pa.array(cols[0], pa.string()),
            "ordered_at": pa.array(cols[1], pa.timestamp("us")),
            "amount": pa.array(cols[2], pa.decimal128(18, 2)),
            "status": pa.array(cols[3], pa.string()),
            "register_date": pa.array(cols[4], pa.date32()),
            "x": pa.array(cols[5], pa.float64()),
            "n": pa.array(cols[6], pa.int32()),
        }
    )


# (id, DuckDB SQL over table `t`). Every query orders its output so rows compare one to one.
CASES: list[tuple[str, str]] = [
    (
        "date_diff_day_crosses_midnight",
        "SELECT member_id, ordered_at, date_diff('day', ordered_at, TIMESTAMP '2024-12-01 00:00:00') AS d "
        "FROM t ORDER BY member_id, ordered_at",
    ),
    (
        "date_diff_units",
        "SELECT ordered_at, date_diff('month', register_date, ordered_at) AS mo, "
        "date_diff('year', register_date, ordered_at) AS y, date_diff('quarter', register_date, ordered_at) AS q, "
        "date_diff('hour', ordered_at, TIMESTAMP '2024-12-01 00:30:00') AS h "
        "FROM t ORDER BY member_id, ordered_at",
    ),
    (
        "date_minus_date",
        "SELECT member_id, ordered_at, CAST(ordered_at AS DATE) - CAST(register_date AS DATE) AS days, "
        "DATE '2024-12-01' - CAST(ordered_at AS DATE) AS recency FROM t ORDER BY member_id, ordered_at",
    ),
    (
        "date_arithmetic",
        "SELECT member_id, ordered_at, CAST(ordered_at AS DATE) + 30 AS due, "
        "CAST(CAST(ordered_at AS DATE) - INTERVAL 90 DAY AS DATE) AS back, date_trunc('month', ordered_at) AS mon, "
        "strftime(ordered_at, '%Y-%m') AS ym, CAST(ordered_at AS DATE) AS day FROM t ORDER BY member_id, ordered_at",
    ),
    (
        "decimal_sums_and_division",
        "SELECT member_id, sum(amount) AS monetary, sum(amount) FILTER (WHERE status = 'paid') AS paid, "
        "count(*) FILTER (WHERE status = 'paid') AS orders, sum(amount) / count(*) AS aov, "
        "sum(amount) / sum(n) AS per_unit, avg(amount) AS avg_amount, CAST(sum(amount) AS DOUBLE) AS m_double "
        "FROM t WHERE status <> 'cancelled' GROUP BY member_id ORDER BY member_id",
    ),
    (
        "integer_division",
        "SELECT member_id, ordered_at, n / 2 AS half, n // 2 AS int_half, 7 / 2 AS lit, round(x / 3, 4) AS r "
        "FROM t ORDER BY member_id, ordered_at",
    ),
    (
        "quantiles",
        "SELECT quantile_cont(x, 0.5) AS med, median(x) AS med2, quantile_cont(x, 0.3) AS q30, "
        "quantile_cont(CAST(amount AS DOUBLE), 0.5) AS amount_med, "
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY x) AS p90 FROM t",
    ),
    (
        "quantile_disc",
        "SELECT quantile_disc(x, 0.25) AS d25, quantile_disc(n, 0.95) AS d95, quantile_disc(x, 0.1) AS d10, "
        "percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS d50 FROM t",
    ),
    (
        "quantile_list",
        "SELECT quantile_cont(x, [0.2, 0.4, 0.6, 0.8]) AS breaks FROM t",
    ),
    (
        "quantiles_per_group",
        "SELECT status, quantile_cont(x, 0.25) AS q25, median(n) AS mn FROM t GROUP BY status ORDER BY status",
    ),
    (
        "window_functions",
        "SELECT member_id, ordered_at, row_number() OVER (PARTITION BY member_id ORDER BY ordered_at DESC) AS rn, "
        "lag(ordered_at) OVER (PARTITION BY member_id ORDER BY ordered_at) AS prev, "
        "sum(amount) OVER (PARTITION BY member_id ORDER BY ordered_at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        " AS running, ntile(3) OVER (ORDER BY amount, member_id, ordered_at) AS tile, "
        "rank() OVER (ORDER BY x) AS rk, count(*) OVER (PARTITION BY member_id) AS cnt FROM t "
        "ORDER BY member_id, ordered_at",
    ),
    (
        "nulls_sort_last_in_windows",
        "SELECT member_id, ordered_at, row_number() OVER (ORDER BY register_date, member_id, ordered_at) AS rn, "
        "ntile(2) OVER (ORDER BY n, member_id, ordered_at) AS t2 FROM t ORDER BY member_id, ordered_at",
    ),
    (
        "case_coalesce_casts",
        "SELECT member_id, ordered_at, CASE WHEN amount < 0 THEN 'refund' WHEN amount >= 100 THEN 'big' "
        "ELSE 'small' END AS kind, coalesce(n, 0) AS n0, coalesce(register_date, CAST(ordered_at AS DATE)) AS reg, "
        "CAST(x / 2 AS INTEGER) AS xi, CAST(round(x) AS INTEGER) AS xr, CAST(CAST(x AS DOUBLE) AS BIGINT) AS xb, "
        "CAST(-2.5 AS INTEGER) AS neg, CAST(amount AS DOUBLE) AS ad, CAST(n AS VARCHAR) AS ns, "
        "CAST(amount AS DECIMAL(10, 1)) AS a1, greatest(n, 3) AS g, least(x, 2.0) AS l, "
        "nullif(n, 2) AS nn, x IS NULL AS missing FROM t ORDER BY member_id, ordered_at",
    ),
    (
        "distinct_days_and_arg_max",
        "SELECT member_id, count(DISTINCT CAST(ordered_at AS DATE)) AS days, "
        "arg_max(status, ordered_at) AS last_status, max(ordered_at) AS last_at, "
        "min(CAST(ordered_at AS DATE)) AS first_day FROM t GROUP BY member_id ORDER BY member_id",
    ),
    (
        "qualify_latest_order",
        "SELECT member_id, ordered_at, amount FROM t "
        "QUALIFY row_number() OVER (PARTITION BY member_id ORDER BY ordered_at DESC) = 1 ORDER BY member_id",
    ),
]


def normalise(rows: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    """Python values from either engine in one comparable shape (ints, floats, Decimals, dates, lists)."""
    return [{k: _value(v) for k, v in row.items()} for row in rows]


def _value(v: object) -> object:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if isinstance(v, list):
        return [_value(x) for x in v]
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    return v


def assert_same(duck: list[dict[str, object]], spark: list[dict[str, object]]) -> None:
    assert len(duck) == len(spark), (duck, spark)
    for a, b in zip(normalise(duck), normalise(spark), strict=True):
        assert list(a) == list(b), f"columns differ: {list(a)} vs {list(b)}"
        for key in a:
            assert _equal(a[key], b[key]), (
                f"{key}: DuckDB {a[key]!r} vs Spark {b[key]!r}\nrow DuckDB {a}\nrow Spark {b}"
            )


def _equal(a: object, b: object) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float, decimal.Decimal)) and isinstance(b, (int, float, decimal.Decimal)):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        if isinstance(a, float) or isinstance(b, float):
            return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
        return decimal.Decimal(a) == decimal.Decimal(b)
    return a == b
