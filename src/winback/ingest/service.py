"""`import_file`: read an export, map its columns, validate, and load it atomically (or report a dry run)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from winback.common.encoding import file_sha256
from winback.errors import EngineError, InputError
from winback.ingest import readers
from winback.ingest.aliases import ColumnMapping, parse_map_options, resolve_mapping
from winback.ingest.fields import FIELDS, KINDS, normalise_kind
from winback.ingest.load_facts import plan_events, plan_order_items
from winback.ingest.load_master import plan_master
from winback.ingest.load_orders import plan_orders
from winback.ingest.plan import Plan, count_parse_rejects, scalar
from winback.ingest.validate import PARSED, build_parsed, detect_date_shapes
from winback.ingest.values_sql import decide_date_format
from winback.warehouse.transaction import transaction

#: progress(stage, rows_done, rows_total): stage is "read", "validate", "write", "commit" or "done"
Progress = Callable[[str, int, int | None], None]

#: DuckDB's memory ceiling while an import runs (temporary tables and hash tables spill to disk beyond it), so a
#: 10M-line file does not take 5 GiB; WINBACK_IMPORT_MEMORY (e.g. "4GB") overrides; a lower limit is kept
IMPORT_MEMORY_ENV = "WINBACK_IMPORT_MEMORY"
DEFAULT_IMPORT_MEMORY = "2GB"
_UNITS = {"": 1, "b": 1, "bytes": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
_UNITS |= {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}

_TEMP_TABLES = (
    PARSED,
    "wb_fold",
    "wb_incoming",
    "wb_planned",
    "wb_lines",
    "wb_cascade",
    "wb_orders_agg",
    "wb_orders_existing",
    "wb_lines_repeated",
    "wb_fact_rows",
    "wb_row_shift",
)


@dataclass
class ImportResult:
    import_id: int | None
    kind: str
    file: str
    file_format: str
    encoding: str | None
    rows_in: int
    rows_loaded: int
    rows_updated: int
    rows_rejected: int
    rows_duplicate: int
    date_format: str
    mapping: dict[str, str]  # source column -> target field
    kept: list[str]  # source columns stored in `extra`
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)
    blanked: dict[str, int] = field(default_factory=dict)  # master data: unreadable optional values per field
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows_in / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 3)
        d["rows_per_second"] = round(self.rows_per_second)
        return d


def _check_kind(kind: str) -> str:
    k = normalise_kind(kind)
    if k not in KINDS:
        raise InputError(
            f'unknown import kind "{kind}"',
            hint="Use one of: members, orders, order-items, stores, staff, events.",
        )
    return k


def _check_required(kind: str, mapping: ColumnMapping, columns: Sequence[str], path: Path) -> None:
    missing = [f for f in FIELDS[kind] if f.required and f.name not in mapping.fields]
    if kind == "members" and not ({"member_id", "wechat_id"} & set(mapping.fields)):
        missing.append(FIELDS["members"][0])
    if missing:
        names = ", ".join(f"{f.says} ({f.name})" for f in missing)
        raise InputError(
            f"{path.name} has no column for {names}",
            hint=f"Its columns are: {', '.join(columns)}. Name the right one with --map COLUMN={missing[0].name}.",
        )


def _plan(
    con: duckdb.DuckDBPyConnection, kind: str, mapping: ColumnMapping, columns: list[str], source: str | None
) -> Plan:
    if kind in ("members", "stores", "staff"):
        return plan_master(con, kind, mapping, source)
    if kind == "orders":
        return plan_orders(con, mapping, columns)
    if kind == "order_items":
        return plan_order_items(con, mapping)
    return plan_events(con, mapping)


def memory_bytes(text: str) -> int | None:
    """'2GB' / '1.7 GiB' / '500 MiB' -> bytes (None when unreadable)."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        return None
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _shown_limit_bytes(shown: str) -> int:
    """DuckDB shows the limit truncated ('7.4 GiB' for 7.45 GiB): the middle of what it can be, so that setting it
    back shows the same text again and repeated imports do not creep the limit down."""
    m = re.fullmatch(r"\s*[0-9]+(?:\.([0-9]+))?\s*([A-Za-z]*)\s*", shown)
    exact = memory_bytes(shown)
    assert m is not None and exact is not None
    return exact + int(0.5 * 10 ** -len(m.group(1) or "") * _UNITS[m.group(2).lower()])


@contextlib.contextmanager
def _bounded_memory(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Lower DuckDB's memory limit to the import ceiling for the import's duration (never raise it)."""
    wanted = os.environ.get(IMPORT_MEMORY_ENV, DEFAULT_IMPORT_MEMORY)
    limit = memory_bytes(wanted)
    if limit is None:
        raise InputError(
            f'{IMPORT_MEMORY_ENV}="{wanted}" is not an amount of memory', hint='Give a size such as "2GB" or "512MB".'
        )
    current = str(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])  # type: ignore[index]
    now = memory_bytes(current)
    if now is None or now <= limit:  # unreadable: left alone
        yield
        return
    con.execute("RESET memory_limit")
    was_default = str(con.execute("SELECT current_setting('memory_limit')").fetchone()[0]) == current  # type: ignore[index]
    con.execute(f"SET memory_limit = '{limit}B'")
    try:
        yield
    finally:
        con.execute("RESET memory_limit" if was_default else f"SET memory_limit = '{_shown_limit_bytes(current)}B'")


def _cleanup(con: duckdb.DuckDBPyConnection, staged: readers.Staged | None) -> None:
    con.execute("DROP VIEW IF EXISTS temp.wb_lines")
    for t in _TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    con.execute("DROP VIEW IF EXISTS temp.wb_lines_loadable")
    for v in ("wb_phone_prefix", "wb_phone_other"):
        with contextlib.suppress(duckdb.Error):
            con.unregister(v)
    readers.drop_staging(con)
    if staged:
        staged.cleanup()


def import_file(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: str | Path,
    *,
    mapping: Mapping[str, str] | Sequence[str] | None = None,
    encoding: str = "auto",
    sheet: str | None = None,
    dry_run: bool = False,
    source: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one export file into the warehouse behind `con`, in one transaction.

    `mapping` is {source column: target field} (or a list of "SRC=DST" strings); a target of "-" keeps the
    column in `extra`. Returns counts with rows_in = rows_loaded + rows_rejected + rows_duplicate.
    """
    with _bounded_memory(con):
        return _import_file(con, kind, path, mapping, encoding, sheet, dry_run, source, progress)


def _import_file(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: str | Path,
    mapping: Mapping[str, str] | Sequence[str] | None,
    encoding: str,
    sheet: str | None,
    dry_run: bool,
    source: str | None,
    progress: Progress | None,
) -> ImportResult:
    started = time.perf_counter()
    kind = _check_kind(kind)
    path = Path(path)
    overrides = parse_map_options(mapping) if isinstance(mapping, (list, tuple)) else dict(mapping or {})
    say: Progress = progress or (lambda stage, done, total: None)
    staged: readers.Staged | None = None
    keep_order: int | None = None
    bar: int | None = None
    try:
        bar = scalar(con, "SELECT current_setting('enable_progress_bar')::BOOLEAN::INTEGER")
        con.execute("SET enable_progress_bar = false")  # DuckDB's own bar would break `--json` output
        staged = readers.stage(con, path, encoding=encoding, sheet=sheet, on_rows=lambda n: say("read", n, None))
        say("read", staged.rows_in, staged.rows_in)
        # row order matters only while the CSV staging table is filled (its rowid is the row number); every
        # later step carries `_row`, so DuckDB may reorder freely (faster parallel inserts and aggregates)
        keep_order = scalar(con, "SELECT current_setting('preserve_insertion_order')::BOOLEAN::INTEGER")
        con.execute("SET preserve_insertion_order = false")
        cmap = resolve_mapping(kind, staged.columns, overrides)
        _check_required(kind, cmap, staged.columns, path)
        decision = decide_date_format(detect_date_shapes(con, kind, cmap, staged.types))
        build_parsed(con, kind, cmap, staged.columns, decision.dm_order, staged.types)
        say("validate", staged.rows_in, staged.rows_in)
        plan = _plan(con, kind, cmap, staged.columns, source)
        readers.drop_raw(con)  # frees the file's copy before the write (memory)
        rejected = count_parse_rejects(con) + plan.rows_rejected
        blanked = {
            str(k): int(v)
            for k, v in con.execute(
                f"SELECT f, count(*) FROM (SELECT unnest(_blanked) AS f FROM {PARSED}) GROUP BY f ORDER BY f"
            ).fetchall()
        }
        result = ImportResult(
            import_id=None,
            kind=kind,
            file=str(path),
            file_format=staged.file_format,
            encoding=staged.encoding,
            rows_in=staged.rows_in,
            rows_loaded=plan.rows_loaded,
            rows_updated=plan.rows_updated,
            rows_rejected=rejected,
            rows_duplicate=plan.rows_duplicate,
            date_format=decision.label,
            mapping=cmap.as_source_to_target(),
            kept=list(cmap.kept),
            dry_run=dry_run,
            notes=([decision.note] if decision.note else []) + plan.notes,
            blanked=blanked,
        )
        if result.rows_in != result.rows_loaded + result.rows_rejected + result.rows_duplicate:
            raise EngineError(
                f"import of {path.name} does not add up: {result.rows_in} rows in, {result.rows_loaded} loaded, "
                f"{result.rows_rejected} rejected, {result.rows_duplicate} duplicate",
                hint="Nothing was written. This is a bug in winback; please report it with the file's header.",
            )
        if not dry_run:
            say("write", 0, result.rows_in)
            result.import_id = _write(con, plan, result, path, say)
        result.seconds = time.perf_counter() - started
        say("done", result.rows_in, result.rows_in)
        return result
    except duckdb.Error as exc:
        raise EngineError(f"the import of {path.name} failed and nothing was written: {exc}") from exc
    finally:
        if keep_order is not None:
            con.execute(f"SET preserve_insertion_order = {'true' if keep_order else 'false'}")
        if bar is not None:
            con.execute(f"SET enable_progress_bar = {'true' if bar else 'false'}")
        _cleanup(con, staged)


def _write(con: duckdb.DuckDBPyConnection, plan: Plan, result: ImportResult, path: Path, say: Progress) -> int:
    sha = file_sha256(path)
    with transaction(con):
        import_id = scalar(con, "SELECT nextval('import_id_seq')")
        assert plan.apply is not None
        plan.apply(con, import_id)
        con.execute(
            "INSERT INTO imports (import_id, kind, file, file_sha256, file_format, encoding, date_format, mapping, "
            "started_at, finished_at, rows_in, rows_loaded, rows_updated, rows_rejected, rows_duplicate, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp::TIMESTAMP, current_timestamp::TIMESTAMP, "
            "?, ?, ?, ?, ?, 'committed')",
            [
                import_id,
                result.kind,
                str(path),
                sha,
                result.file_format,
                result.encoding,
                result.date_format,
                json.dumps(result.mapping, ensure_ascii=False),
                result.rows_in,
                result.rows_loaded,
                result.rows_updated,
                result.rows_rejected,
                result.rows_duplicate,
            ],
        )
        say("commit", result.rows_in, result.rows_in)  # everything is written but not yet committed
    return import_id
