"""Spark engine: runs winback's DuckDB-dialect SQL on Apache Spark (local mode offline, or a cluster).

SQL is translated by `winback.engine.transpile`. Tables are Spark temporary views: the warehouse's tables are
read from Parquet (the user's data lake, or an export of the DuckDB file to a temporary directory), Arrow tables
registered with `register` become views, and `CREATE TABLE name AS SELECT …` is materialised (persisted and
counted) under a temporary view of that name. See docs/spark.md.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from winback.engine.base import Engine, Params
from winback.engine.dialect import DIALECTS
from winback.engine.transpile import READ, parse, spark_params
from winback.errors import ConfigError, EngineError, InputError
from winback.i18n import N_, _

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from winback.config import Settings
    from winback.engine.duckdb_engine import DuckDBEngine

INSTALL_HINT = N_(
    'Install the Spark extra with `pip install "winback[spark]"` and a Java 17 runtime '
    "(e.g. `apt-get install openjdk-17-jre-headless`, or set JAVA_HOME), or run with --engine duckdb."
)

# Warehouse tables a refresh reads; each is exported to Parquet unless the user points at their own files.
DEFAULT_TABLES: tuple[str, ...] = ("members", "orders")


@dataclass(frozen=True)
class SparkOptions:
    """How to start Spark. Defaults are for an offline single machine."""

    master: str = "local[2]"
    driver_memory: str = "4g"
    shuffle_partitions: int = 8
    app_name: str = "winback"
    local_dir: str | None = None
    extra_conf: Mapping[str, str] = field(default_factory=dict)

    def conf(self) -> dict[str, str]:
        """The Spark configuration: offline (no jar downloads), no UI, UTC, loopback only, small shuffles."""
        local = self.local_dir or tempfile.gettempdir()
        conf = {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": str(self.shuffle_partitions),
            "spark.sql.session.timeZone": "UTC",
            "spark.driver.memory": self.driver_memory,
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.driver.host": "127.0.0.1",
            "spark.sql.warehouse.dir": str(Path(local) / "winback-spark-warehouse"),
            "spark.local.dir": local,
            "spark.sql.adaptive.enabled": "true",
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={local}",
        }
        forbidden = {"spark.jars.packages", "spark.jars.repositories", "spark.jars.ivy"}
        bad = forbidden.intersection(self.extra_conf)
        if bad:
            raise ConfigError(
                _("Spark settings {bad} would download jars; winback runs Spark offline", bad=sorted(bad)),
                hint=_("Put the jars you need on the classpath yourself (spark.jars with local paths)."),
            )
        conf.update(self.extra_conf)
        return conf


def spark_available() -> str | None:
    """None when pyspark and Java are present, else a sentence saying what is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed"
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        return "no Java runtime was found (java is not on PATH and JAVA_HOME is not set)"
    return None


def active_session() -> SparkSession | None:
    """The SparkSession already running in this process, if any (it is reused, never stopped by winback)."""
    if spark_available():
        return None
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def start_session(options: SparkOptions | None = None) -> SparkSession:
    """Start a SparkSession with winback's offline configuration (or return the one already running)."""
    missing = spark_available()
    if missing:
        raise EngineError(_("the Spark engine is unavailable: {missing}", missing=missing), hint=_(INSTALL_HINT))
    from pyspark.sql import SparkSession

    options = options or SparkOptions()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(options.master).appName(options.app_name)
    for key, value in options.conf().items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # pyspark raises PySparkRuntimeError / Py4J errors when the JVM cannot start
        raise EngineError(_("Spark could not start: {exc}", exc=exc), hint=_(INSTALL_HINT)) from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine(Engine):
    """The Engine on a SparkSession. Every name the SQL uses is a Spark temporary view."""

    dialect = DIALECTS["spark"]

    def __init__(self, session: SparkSession, *, owns_session: bool = False, tmp_dir: Path | None = None) -> None:
        self.session = session
        self._owns_session = owns_session
        self._tmp_dir = tmp_dir  # removed on close (the warehouse export lives here)
        self._persisted: dict[str, DataFrame] = {}

    # -- Engine hooks ------------------------------------------------------------------------------------
    def _query(self, sql: str, params: Params) -> pa.Table:
        return _to_arrow(self._frame(sql, params))

    def _fetchall(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        table = self._query(sql, params)
        return list(zip(*(c.to_pylist() for c in table.columns), strict=True)) if table.num_columns else []

    def _execute(self, sql: str, params: Params) -> None:
        trees = parse(sql)
        if len(trees) != 1:
            if params:
                raise EngineError(_("parameters need a single statement"), hint=_("Run the statements one by one."))
            for tree in trees:
                self._execute(tree.sql(dialect=READ), None)
            return
        tree = trees[0]
        if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() in {"TABLE", "VIEW"}:
            self._create(tree, params)
        elif isinstance(tree, exp.Drop) and str(tree.args.get("kind", "")).upper() in {"TABLE", "VIEW"}:
            tables = tree.args.get("tables") or ([tree.this] if tree.this is not None else [])
            for table in tables:
                self._drop(table.name, if_exists=bool(tree.args.get("exists")))
        elif isinstance(tree, exp.Insert):
            self._insert(tree, params)
        else:
            self._frame(sql, params).collect()

    def _register(self, name: str, table: pa.Table) -> None:
        self._forget(name)
        try:
            frame = self.session.createDataFrame(table)
        except Exception as exc:
            raise EngineError(_("Spark could not take the Arrow table {name!r}: {exc}", name=name, exc=exc)) from exc
        frame.createOrReplaceTempView(name)

    def _unregister(self, name: str) -> None:
        self._drop(name, if_exists=True)

    def _kind(self, exc: Exception) -> str:
        text = str(exc)
        return "catalog" if "TABLE_OR_VIEW_NOT_FOUND" in text or "UNRESOLVED_COLUMN" in text else "other"

    # -- extras ------------------------------------------------------------------------------------------
    def register_parquet(self, name: str, path: str | os.PathLike[str]) -> None:
        """Make Parquet files (a file, a directory or a glob; local or any Hadoop URI) visible as view `name`."""
        self._forget(name)
        try:
            frame = self.session.read.parquet(str(path))
        except Exception as exc:
            raise EngineError(
                _(
                    "Spark cannot read Parquet for {name!r} at {path}: {exc}",
                    name=name,
                    path=path,
                    exc=_first_line(exc),
                ),
                hint=_("Check the path (a file, a directory of part files, or a glob) and that it is readable."),
            ) from exc
        frame.createOrReplaceTempView(name)

    def table_names(self) -> list[str]:
        return sorted(t.name for t in self.session.catalog.listTables() if t.isTemporary)

    def columns(self, name: str) -> list[str]:
        return list(self.session.table(name).columns)

    def close(self) -> None:
        for name in list(self._persisted):
            self._forget(name)
        if self._owns_session:
            self.session.stop()
        if self._tmp_dir is not None:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
            self._tmp_dir = None

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------------
    def _frame(self, sql: str, params: list[object] | None) -> DataFrame:
        statement = spark_params(sql, params)
        try:
            if statement.args:
                return self.session.sql(statement.sql, args=statement.args)
            return self.session.sql(statement.sql)
        except Exception as exc:
            raise EngineError(
                _("Spark failed: {exc}", exc=_first_line(exc)),
                hint=_("Spark SQL (translated from DuckDB's dialect): {sql}", sql=statement.sql[:500]),
            ) from exc

    def _create(self, tree: exp.Create, params: list[object] | None) -> None:
        name = tree.this.name if isinstance(tree.this, exp.Table) else tree.this.this.name
        select = tree.args.get("expression")
        if select is None:
            raise EngineError(
                _("CREATE TABLE {name} without AS SELECT is not supported on Spark", name=name),
                hint=_("Build the table with CREATE TABLE … AS SELECT, or register an Arrow table."),
            )
        exists = self.session.catalog.tableExists(name)
        if exists and not tree.args.get("replace"):
            if tree.args.get("exists"):  # IF NOT EXISTS
                return
            raise EngineError(
                _("table {name} already exists", name=name), hint=_("Use CREATE OR REPLACE, or drop it first.")
            )
        frame = self._frame(select.sql(dialect=READ), params)
        if str(tree.args.get("kind")).upper() == "VIEW":
            self._forget(name)
            frame.createOrReplaceTempView(name)
            return
        self._materialise(name, frame)

    def _materialise(self, name: str, frame: DataFrame) -> None:
        from pyspark import StorageLevel

        stored = frame.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            stored.count()
        except Exception as exc:
            stored.unpersist()
            raise EngineError(_("Spark failed building {name}: {exc}", name=name, exc=_first_line(exc))) from exc
        self._forget(name)
        stored.createOrReplaceTempView(name)
        self._persisted[name] = stored

    def _insert(self, tree: exp.Insert, params: list[object] | None) -> None:
        target = tree.this
        columns: list[str] | None = None
        if isinstance(target, exp.Schema):
            columns = [c.name for c in target.expressions]
            target = target.this
        name = target.name
        if name not in self._persisted:
            raise EngineError(
                _(
                    ("INSERT INTO {name} is not supported on Spark (only into tables created by this engine)"),
                    name=name,
                ),
                hint=_("Write results with CREATE TABLE … AS SELECT, or fetch them with query()."),
            )
        select = tree.expression
        new = self._frame(select.sql(dialect=READ), params)
        old = self._persisted[name]
        if columns is not None:
            new = new.toDF(*columns)
            missing = [c for c in old.columns if c not in columns]
            from pyspark.sql import functions as F

            for c in missing:
                new = new.withColumn(c, F.lit(None))
            new = new.select(*old.columns)
        elif tree.args.get("by_name"):
            new = new.select(*old.columns)
        else:
            new = new.toDF(*old.columns)
        new = new.select(*[new[c].cast(old.schema[c].dataType).alias(c) for c in old.columns])
        self._materialise(name, old.unionAll(new))

    def _drop(self, name: str, *, if_exists: bool) -> None:
        if not self.session.catalog.tableExists(name):
            if if_exists:
                return
            raise EngineError(_("table {name} does not exist", name=name), hint=_("Use DROP TABLE IF EXISTS."))
        self._forget(name)
        self.session.catalog.dropTempView(name)

    def _forget(self, name: str) -> None:
        stored = self._persisted.pop(name, None)
        if stored is not None:
            stored.unpersist()


def _to_arrow(frame: DataFrame) -> pa.Table:
    try:
        table = frame.toArrow()
    except Exception as exc:
        raise EngineError(_("Spark failed: {exc}", exc=_first_line(exc))) from exc
    # Spark's timestamps without zone come back naive, with zone as UTC; DuckDB's TIMESTAMP is naive: match it.
    fields = []
    changed = False
    for f in table.schema:
        if pa.types.is_timestamp(f.type) and f.type.tz is not None:
            fields.append(pa.field(f.name, pa.timestamp("us"), f.nullable))
            changed = True
        else:
            fields.append(f)
    if changed:
        table = table.cast(pa.schema(fields))
    return table


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- building an engine for a warehouse ----------------------------------------------------------------------


def export_tables(db: DuckDBEngine, tables: Iterable[str], directory: Path) -> dict[str, Path]:
    """Write warehouse tables to Parquet under `directory` (JSON columns as text) and return name → path."""
    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for table in tables:
        cols = db.fetchall(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        )
        if not cols:
            raise EngineError(
                _("the warehouse has no table {table!r} to hand to Spark", table=table), hint=_("Run `winback init`.")
            )
        select = ", ".join(
            f'CAST("{name}" AS VARCHAR) AS "{name}"' if dtype.upper() == "JSON" else f'"{name}"' for name, dtype in cols
        )
        path = directory / f"{table}.parquet"
        # The path is a string literal (quotes doubled by sqlglot), never pasted raw: a temp dir may hold a `'`.
        target = exp.Literal.string(str(path)).sql(dialect="duckdb")
        db.execute(f'COPY (SELECT {select} FROM "{table}") TO {target} (FORMAT parquet, COMPRESSION zstd)')
        out[table] = path
    return out


def spark_engine_for_warehouse(
    db: DuckDBEngine,
    *,
    parquet: Mapping[str, str | os.PathLike[str]] | None = None,
    tables: Iterable[str] = DEFAULT_TABLES,
    options: SparkOptions | None = None,
    session: SparkSession | None = None,
) -> SparkEngine:
    """A SparkEngine whose views `tables` come from the user's Parquet (`parquet[name]`) or, when a table is not
    given there, from an export of the warehouse to a temporary directory (removed by `close()`)."""
    parquet = dict(parquet or {})
    missing_paths = [f"{k}={v}" for k, v in parquet.items() if "://" not in str(v) and not _exists(str(v))]
    if missing_paths:
        raise InputError(
            _("Parquet path(s) not found: {missing_paths}", missing_paths=", ".join(missing_paths)),
            hint=_("Give a file, a directory of Parquet part files or a glob (--orders-parquet / --members-parquet)."),
        )
    tmp_base = (options.local_dir if options else None) or None
    to_export = [t for t in tables if t not in parquet]
    tmp_dir = Path(tempfile.mkdtemp(prefix="winback-spark-export-", dir=tmp_base)) if to_export else None
    session = session or active_session()
    owns = session is None  # stop only a session this call started
    spark = session or start_session(options)
    engine = SparkEngine(spark, owns_session=owns, tmp_dir=tmp_dir)
    try:
        exported = export_tables(db, to_export, tmp_dir) if tmp_dir is not None else {}
        for name, path in {**exported, **parquet}.items():
            engine.register_parquet(name, path)
    except BaseException:
        engine.close()
        raise
    return engine


def spark_engine_from_settings(
    settings: Settings,
    db: DuckDBEngine,
    *,
    orders_parquet: str | None = None,
    members_parquet: str | None = None,
    session: SparkSession | None = None,
) -> SparkEngine:
    """The app's entry: `orders_parquet` / `members_parquet` (command-line options) win over the settings
    (WINBACK_SPARK_ORDERS_PARQUET / _MEMBERS_PARQUET); master, driver memory and scratch directory come from the
    settings."""
    parquet: dict[str, str] = {}
    orders = orders_parquet or settings.spark_orders_parquet
    members = members_parquet or settings.spark_members_parquet
    if orders:
        parquet["orders"] = orders
    if members:
        parquet["members"] = members
    options = SparkOptions(
        master=settings.spark_master, driver_memory=settings.spark_driver_memory, local_dir=settings.spark_tmp
    )
    return spark_engine_for_warehouse(db, parquet=parquet, options=options, session=session)


def _exists(path: str) -> bool:
    import glob

    return Path(path).exists() or bool(glob.glob(path))
