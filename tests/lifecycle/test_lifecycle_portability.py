"""Every statement the refresh runs must translate to Spark SQL (the Spark engine runs the same refresh)."""

from __future__ import annotations

import datetime as dt

from winback.engine.transpile import to_spark
from winback.lifecycle import snapshot_sql as q
from winback.lifecycle.cycle import CycleSettings
from winback.lifecycle.modelling import expected_value_sql
from winback.lifecycle.rules import load_schemes


def test_refresh_sql_translates_to_spark() -> None:
    schemes = list(load_schemes().values())
    names = [s.name for s in schemes]
    as_of = dt.date(2024, 7, 1)
    select = q.snapshot_sql(
        as_of,
        [s for s in schemes if s.name in q.STORED_SCHEMES],
        CycleSettings(),
        breaks={"r": [1.0, 2.0, 3.0, 4.0], "f": [1.0, 1.0, 2.0, 3.0], "m": [10.0, 20.0, 30.0, 40.0]},
        with_predictions=True,
        expected_value_expr=expected_value_sql({"p": 6.25, "q": 3.74, "v": 15.44}, "i.frequency", "i.aov"),
    )
    # everything that runs on the engine (member_segments is a view in the DuckDB warehouse)
    statements = [
        q.last_order_sql(),
        q.base_sql(as_of),
        q.prior_sql(CycleSettings()),
        q.triples_sql(),
        q.gamma_pairs_sql(),
        q.value_counts_at_sql(q.BASE),
        q.insert_snapshot_sql(select, names),
    ]
    for sql in statements:
        spark = to_spark(sql)
        assert "QUALIFY" not in spark.upper()
        assert "PERCENTILE_APPROX" not in spark.upper()  # medians must stay exact for engine parity
    assert "DATEDIFF(CAST(" in to_spark(q.base_sql(as_of)).upper()  # day counts, not TIMESTAMPDIFF
