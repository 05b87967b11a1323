"""Engine adapters: the only place that knows whether DuckDB or Spark runs the SQL.

All analytic SQL in winback is written in DuckDB's dialect; other engines transpile it with sqlglot.
"""

from winback.engine.base import Engine
from winback.engine.duckdb_engine import DuckDBEngine

__all__ = ["DuckDBEngine", "Engine"]
