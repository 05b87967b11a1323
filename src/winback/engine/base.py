"""The one database seam: every SQL statement winback runs goes through an `Engine`.

The public methods are final wrappers over a few hooks a backend implements (`_execute`, `_query`, `_fetchall`,
`_register`, `_unregister`). Each wrapper turns every backend error into one `EngineError` that quotes the failing
SQL (truncated) and says what kind of failure it was, so no `duckdb.Error` or Py4J error ever reaches a user.
What differs between backends is a property of `engine.dialect`, never a check of the engine's name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, final

from winback.engine.dialect import Dialect
from winback.errors import EngineError
from winback.i18n import _

if TYPE_CHECKING:
    import pyarrow as pa

    from winback.config import Settings
    from winback.engine.duckdb_engine import DuckDBEngine

T = TypeVar("T")
Params = Sequence[object] | dict[str, object] | None


class Engine(ABC):
    """Runs DuckDB-dialect SQL somewhere and hands results back as tuples or Arrow."""

    dialect: Dialect

    @property
    def name(self) -> str:
        return self.dialect.name

    # -- hooks a backend implements ------------------------------------------------------------------------
    @abstractmethod
    def _execute(self, sql: str, params: Params) -> None: ...

    @abstractmethod
    def _query(self, sql: str, params: Params) -> pa.Table: ...

    @abstractmethod
    def _fetchall(self, sql: str, params: Params) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _register(self, name: str, table: pa.Table) -> None: ...

    @abstractmethod
    def _unregister(self, name: str) -> None: ...

    def _fetchone(self, sql: str, params: Params) -> tuple[Any, ...] | None:
        rows = self._fetchall(sql, params)
        return rows[0] if rows else None

    def _dicts(self, sql: str, params: Params) -> list[dict[str, Any]]:
        return self._query(sql, params).to_pylist()

    def _executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        for row in rows:
            self._execute(sql, row)

    def _is_backend_error(self, exc: Exception) -> bool:
        """Whether `exc` came from the backend (and so becomes an EngineError)."""
        return True

    def _kind(self, exc: Exception) -> str:
        """conflict | catalog | constraint | io | other."""
        return "other"

    def _insert_into(self, warehouse: DuckDBEngine, table: str, columns: Sequence[str], sql: str) -> int:
        """Default: fetch the SELECT's rows as Arrow and insert them through the warehouse."""
        result = self._query(sql, None)
        if result.num_rows == 0:
            return 0
        result = result.rename_columns(list(columns))
        cols = ", ".join(f'"{c}"' for c in columns)
        view = f"wb_copy_{table}"
        with warehouse.registered(view, result):
            warehouse.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{view}"')
        return int(result.num_rows)

    def close(self) -> None:
        """Release what the engine holds (a no-op unless the backend owns something)."""
        return None

    # -- the public surface: final wrappers ------------------------------------------------------------------
    @final
    def _guard(self, sql: str, run: Callable[[], T]) -> T:
        try:
            return run()
        except EngineError:
            raise
        except Exception as exc:
            if not self._is_backend_error(exc):
                raise
            raise EngineError(
                _("{label} failed: {exc}", label=self.dialect.label, exc=_first_line(exc)),
                sql=sql,
                kind=self._kind(exc),
            ) from exc

    @final
    def execute(self, sql: str, params: Params = None) -> None:
        """Run a statement for its effect (CREATE, INSERT, UPDATE …)."""
        self._guard(sql, lambda: self._execute(sql, params))

    @final
    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        batch = list(rows)
        if batch:
            self._guard(sql, lambda: self._executemany(sql, batch))

    @final
    def query(self, sql: str, params: Params = None) -> pa.Table:
        """Run a SELECT and return its rows as an Arrow table."""
        return self._guard(sql, lambda: self._query(sql, params))

    @final
    def fetchall(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self._guard(sql, lambda: self._fetchall(sql, params))

    @final
    def fetchone(self, sql: str, params: Params = None) -> tuple[Any, ...] | None:
        return self._guard(sql, lambda: self._fetchone(sql, params))

    @final
    def scalar(self, sql: str, params: Params = None) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = self.fetchone(sql, params)
        return row[0] if row else None

    @final
    def dicts(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        return self._guard(sql, lambda: self._dicts(sql, params))

    @final
    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table visible to SQL under `name` for this session."""
        self._guard(f"-- register {name}", lambda: self._register(name, table))

    @final
    def unregister(self, name: str) -> None:
        self._guard(f"-- unregister {name}", lambda: self._unregister(name))

    @final
    @contextmanager
    def registered(self, name: str, table: object) -> Iterator[None]:
        """`table` (Arrow, or anything the backend can scan) visible as `name` inside the block only."""
        self.register(name, table)  # type: ignore[arg-type]
        try:
            yield
        finally:
            self.unregister(name)

    @final
    @contextmanager
    def transaction(self) -> Iterator[Engine]:
        """All of the block's writes are kept, or none (KeyboardInterrupt and SystemExit roll back too).

        BEGIN on entry, COMMIT when the block ends normally; on any exception ROLLBACK and re-raise it unchanged.
        """
        if not self.dialect.transactions:
            raise self.dialect.unsupported("transactions")
        self.execute("BEGIN TRANSACTION")
        try:
            yield self
            self.execute("COMMIT")
        except BaseException:
            self.execute("ROLLBACK")
            raise

    @final
    def insert_into_warehouse(self, warehouse: DuckDBEngine, table: str, columns: Sequence[str], sql: str) -> int:
        """Run the SELECT `sql` on this engine and append its rows to the warehouse table `table` (its columns
        `columns`, in the SELECT's order); return the row count. Never commits or rolls back: the caller holds
        the transaction around several inserts. DuckDB on the warehouse itself runs INSERT … SELECT in place."""
        return self._guard(sql, lambda: self._insert_into(warehouse, table, columns, sql))

    # -- choosing a backend ------------------------------------------------------------------------------------
    @staticmethod
    def from_settings(settings: Settings, warehouse: DuckDBEngine, **spark_paths: str | None) -> Engine:
        """The analytics engine the settings name: the warehouse itself for DuckDB, else a Spark session whose
        views come from the warehouse (or from the Parquet paths in the settings / `spark_paths`)."""
        dialect = Dialect.from_string(settings.engine)
        if dialect.in_warehouse:
            return warehouse
        from winback.engine.spark import spark_engine_from_settings

        return spark_engine_from_settings(settings, warehouse, **spark_paths)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
