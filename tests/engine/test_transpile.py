"""The transpile layer on its own (no Spark needed): each targeted fix, parameters, and errors."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlglot
from hypothesis import given
from hypothesis import strategies as st

from winback.engine.transpile import spark_params, to_spark, to_spark_statements
from winback.errors import EngineError

pytestmark = pytest.mark.usefixtures("english")  # these tests assert the English wording


def test_plain_sqlglot_would_count_whole_days_not_day_boundaries() -> None:
    """Why the date_diff fix exists: sqlglot's Spark output is TIMESTAMPDIFF semantics."""
    plain = sqlglot.transpile("SELECT date_diff('day', a, b) FROM t", read="duckdb", write="spark")[0]
    assert plain == "SELECT DATEDIFF(DAY, a, b) FROM t"
    assert to_spark("SELECT date_diff('day', a, b) FROM t") == (
        "SELECT CAST(DATEDIFF(CAST(b AS DATE), CAST(a AS DATE)) AS BIGINT) FROM t"
    )


def test_other_date_diff_units_count_boundaries_via_date_trunc() -> None:
    assert to_spark("SELECT date_diff('month', a, b)") == (
        "SELECT CAST(TIMESTAMPDIFF(MONTH, DATE_TRUNC('MONTH', a), DATE_TRUNC('MONTH', b)) AS BIGINT)"
    )


def test_week_differences_truncate_whole_weeks_of_days_like_duckdb() -> None:
    # DuckDB: date_diff('week', Wed, next Tue) = 0 although a Monday lies between; -8 days → -1 week
    assert to_spark("SELECT date_diff('week', a, b)") == (
        "SELECT CAST(DATEDIFF(CAST(b AS DATE), CAST(a AS DATE)) DIV 7 AS BIGINT)"
    )


def test_date_minus_date_becomes_a_day_count_only_where_both_sides_are_dates() -> None:
    assert to_spark("SELECT CAST(a AS DATE) - DATE '2024-01-01'") == (
        "SELECT CAST(DATEDIFF(CAST(a AS DATE), CAST('2024-01-01' AS DATE)) AS BIGINT)"
    )
    assert to_spark("SELECT a - b, x - 1") == "SELECT a - b, x - 1"


def test_division_is_double_like_duckdb() -> None:
    assert to_spark("SELECT sum(amount) / count(*) FROM t") == (
        "SELECT CAST(SUM(amount) AS DOUBLE) / CAST(COUNT(*) AS DOUBLE) FROM t"
    )
    assert to_spark("SELECT a // b") == "SELECT a DIV b"
    # nested fixes apply innermost first: the day count inside a division is fixed too
    assert "DATEDIFF(CAST(b AS DATE), CAST(a AS DATE))" in to_spark("SELECT date_diff('day', a, b) / 7")


def test_avg_is_double() -> None:
    assert to_spark("SELECT avg(amount) FROM t") == "SELECT AVG(CAST(amount AS DOUBLE)) FROM t"
    assert to_spark("SELECT avg(DISTINCT n) FROM t") == "SELECT AVG(DISTINCT n) FROM t"


@pytest.mark.parametrize(
    ("duck", "spark"),
    [
        ("SELECT CAST(x / 2 AS INTEGER)", "SELECT CAST(BROUND(CAST(x AS DOUBLE) / CAST(2 AS DOUBLE)) AS INT)"),
        ("SELECT CAST(2.5 AS INTEGER)", "SELECT CAST(ROUND(2.5) AS INT)"),
        ("SELECT CAST(CAST(m AS DECIMAL(18, 2)) AS BIGINT)", "SELECT CAST(ROUND(CAST(m AS DECIMAL(18, 2))) AS BIGINT)"),
        ("SELECT CAST(x AS INTEGER)", "SELECT CAST(x AS INT)"),  # a column's type is unknown: unchanged
        ("SELECT CAST(floor(x) AS INTEGER)", "SELECT CAST(FLOOR(x) AS INT)"),
    ],
)
def test_integer_casts_round_like_duckdb(duck: str, spark: str) -> None:
    assert to_spark(duck) == spark


def test_percentiles_stay_exact() -> None:
    plain = sqlglot.transpile(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t", read="duckdb", write="spark"
    )[0]
    assert "PERCENTILE_APPROX" in plain  # sqlglot's output is an approximation
    assert to_spark("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t") == (
        "SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x NULLS LAST) FROM t"
    )
    assert to_spark("SELECT quantile_cont(x, 0.25) FROM t") == "SELECT PERCENTILE(x, 0.25) FROM t"
    assert to_spark("SELECT quantile_cont(x, [0.2, 0.8]) FROM t") == "SELECT PERCENTILE(x, ARRAY(0.2, 0.8)) FROM t"
    assert to_spark("SELECT median(x) FROM t") == "SELECT MEDIAN(x) FROM t"


def test_duckdb_null_ordering_is_kept() -> None:
    assert to_spark("SELECT ntile(5) OVER (ORDER BY m) FROM t") == "SELECT NTILE(5) OVER (ORDER BY m NULLS LAST) FROM t"


def test_untouched_constructs_pass_through() -> None:
    sql = (
        "SELECT CASE WHEN a > 1 THEN 'x' ELSE 'y' END, COALESCE(b, 0), CAST(c AS DECIMAL(18, 2)), "
        "SUM(d) FILTER(WHERE e = 'paid') FROM t GROUP BY 1, 2, 3"
    )
    assert to_spark(sql) == sql


def test_positional_parameters_bind_by_name_even_when_a_fix_swaps_arguments() -> None:
    stmt = spark_params("SELECT date_diff('day', ?, ?) AS d, ? AS x FROM t WHERE s = '?'", ["2024-01-01", "b", 3])
    assert stmt.sql == (
        "SELECT CAST(DATEDIFF(CAST(:p2 AS DATE), CAST(:p1 AS DATE)) AS BIGINT) AS d, :p3 AS x FROM t WHERE s = '?'"
    )
    assert stmt.args == {"p1": "2024-01-01", "p2": "b", "p3": 3}


def test_numbered_parameters() -> None:
    stmt = spark_params("SELECT $2, $1, $2", [dt.date(2024, 1, 1), 5])
    assert stmt.sql == "SELECT :p2, :p1, :p2"
    assert stmt.args == {"p1": dt.date(2024, 1, 1), "p2": 5}
    assert spark_params("SELECT 1", None).args is None


@pytest.mark.parametrize(
    ("sql", "params", "message"),
    [
        ("SELECT ?, ?", [1], "uses parameter 2 but 1"),
        ("SELECT ?", None, "uses parameter 1 but 0"),
        ("SELECT $1", [1, 2], "2 parameter(s) were given but the SQL uses 1"),
        ("SELECT 1; SELECT 2", None, "expected one SQL statement, got 2"),
        ("SELECT ?, $1", [1], "mixing `?` and `$n` parameters"),
        ("SELECT FROM WHERE (", None, "cannot translate this SQL for Spark"),
    ],
)
def test_errors_say_what_is_wrong(sql: str, params: list[object] | None, message: str) -> None:
    with pytest.raises(EngineError, match=re.escape(message)):
        spark_params(sql, params)


def test_scripts_split_into_statements() -> None:
    assert to_spark_statements("CREATE TABLE a AS SELECT 1 AS x; SELECT x / 2 FROM a") == [
        "CREATE TABLE a AS SELECT 1 AS x",
        "SELECT CAST(x AS DOUBLE) / CAST(2 AS DOUBLE) FROM a",
    ]


names = st.sampled_from(["a", "b", "amount", "ordered_at", "x"])
units = st.sampled_from(["day", "month", "year", "hour", "week"])


@given(unit=units, start=names, end=names)
def test_every_date_diff_is_rewritten_and_the_output_parses_as_spark(unit: str, start: str, end: str) -> None:
    out = to_spark(f"SELECT date_diff('{unit}', {start}, {end}) / 2 AS v FROM t")
    assert "DATEDIFF(DAY" not in out and "DATEDIFF(" + unit.upper() not in out
    sqlglot.parse_one(out, read="spark")  # valid Spark SQL to sqlglot's own parser
    # start and end keep their roles: end comes first in Spark's two-argument DATEDIFF / last in TIMESTAMPDIFF
    if unit == "day":
        assert out.index(f"CAST({end} AS DATE)") < out.rindex(f"CAST({start} AS DATE)")
