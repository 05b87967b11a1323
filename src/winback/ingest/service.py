"""Importing an export: read it, map its columns, validate, and load it atomically (or report a dry run).

`IngestService(wb)` is what entry points call (`wb.ingest.import_file(...)`, `wb.ingest.rejects(...)`); it picks
the warehouse and the settings and calls `import_file(db, ...)`, which orchestrates the loaders (readers,
validate, load_*) and `ingest.store`. Nothing here runs SQL itself.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from winback.common.encoding import file_sha256
from winback.errors import EngineError, InputError
from winback.i18n import _
from winback.ingest import messages, readers, store, store_profile_history
from winback.ingest.aliases import ColumnMapping, parse_map_options, resolve_mapping
from winback.ingest.fields import FIELDS, KINDS, normalise_kind
from winback.ingest.load_facts import plan_events, plan_order_items
from winback.ingest.load_master import plan_master
from winback.ingest.load_orders import plan_orders
from winback.ingest.memory import DEFAULT_IMPORT_MEMORY, import_memory_limit
from winback.ingest.plan import Plan, count_parse_rejects
from winback.ingest.types import ConflictList, ImportResult, RejectList, RejectsExport
from winback.ingest.validate import build_parsed, detect_date_shapes
from winback.ingest.values_sql import DATE_ORDERS, decide_date_format

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.engine.duckdb_engine import DuckDBEngine

__all__ = [
    "DEFAULT_IMPORT_MEMORY",
    "ImportRequest",
    "ImportResult",
    "IngestService",
    "Progress",
    "import_file",
    "import_request",
]

#: conflicting keys listed in an import's output (all of them: `winback rejects --conflicts`)
SHOWN_CONFLICTS = 10
#: progress(stage, rows_done, rows_total): stage is "read", "validate", "write", "commit" or "done"
Progress = Callable[[str, int, int | None], None]
MappingOption = Mapping[str, str] | Sequence[str] | None


def _rejects() -> ModuleType:
    """`ingest.rejects` (and the pyarrow it needs), imported only by the commands that list or export rejects."""
    from winback.ingest import rejects

    return rejects


class IngestService:
    """Imports and their rejects, on the app's warehouse with the app's settings."""

    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    def import_file(
        self,
        kind: str,
        path: str | Path,
        *,
        mapping: MappingOption = None,
        encoding: str = "auto",
        sheet: str | None = None,
        dry_run: bool = False,
        source: str | None = None,
        progress: Progress | None = None,
        date_order: str | None = None,
    ) -> ImportResult:
        """Import one export file (see `import_file`). A dry run reads the warehouse only; when there is no
        warehouse yet it runs against an empty one in memory."""
        settings = self.wb.settings
        options: dict[str, Any] = dict(
            mapping=mapping,
            encoding=encoding,
            sheet=sheet,
            dry_run=dry_run,
            source=source,
            progress=progress,
            import_memory=settings.import_memory,
            date_order=date_order,
            lang=settings.lang,
        )
        if dry_run and not Path(settings.db_path).exists():
            with store.scratch_warehouse() as scratch:
                result = import_file(scratch, kind, path, **options)
        else:
            result = import_file(self.wb.db(write=not dry_run), kind, path, **options)
        result.db = str(settings.db_path)
        return result

    def rejects(
        self, *, import_id: int | None = None, limit: int = 50, show_phones: bool = False, actor: str = "cli"
    ) -> RejectList:
        """The rows imports could not load (of one import, or of all), with row numbers and reasons; phones in them
        masked unless `show_phones`, which is written to the audit log (who: `actor`, when, which rows)."""
        if not show_phones:
            return _rejects().list_rejects(self.wb.db(write=False), import_id, limit)
        db = self.wb.db()
        rj = _rejects()
        found = rj.list_rejects(db, import_id, limit, show_phones=True)
        detail = {"what": "rejects", "import_id": import_id, "rows": len(found.rows), "phones": "full"}
        rj.audit_unmasked(db, at=self.wb.now(), actor=actor, action="phone_reveal", target="rejects", detail=detail)
        return found

    def conflicts(self, *, import_id: int | None = None, limit: int = 50) -> ConflictList:
        """The values on which master-data rows repeating a key disagreed (of one import, or of all)."""
        return _rejects().list_conflicts(self.wb.db(write=False), import_id, limit)

    def export_conflicts(self, path: str | Path, *, import_id: int | None = None) -> RejectsExport:
        """Write the conflicts to a .csv, .parquet or .jsonl file (phones masked)."""
        n = _rejects().export_conflicts(self.wb.db(write=False), Path(path), import_id)
        return RejectsExport(import_id=import_id, exported=n, file=str(path))

    def export_rejects(
        self, path: str | Path, *, import_id: int | None = None, show_phones: bool = False, actor: str = "cli"
    ) -> RejectsExport:
        """Write the rejects to a .csv, .parquet or .jsonl file (0600), phones masked unless `show_phones`; an
        unmasked file is written to the audit log (who: `actor`, when, which file, how many rows), or removed."""
        path, rj = Path(path), _rejects()
        if not show_phones:
            n = rj.export_rejects(self.wb.db(write=False), path, import_id)
            return RejectsExport(import_id=import_id, exported=n, file=str(path))
        db = self.wb.db()
        n = rj.export_rejects(db, path, import_id, show_phones=True)
        detail = {"what": "rejects", "import_id": import_id, "rows": n, "phones": "full", "file": str(path.resolve())}
        try:
            rj.audit_unmasked(db, at=self.wb.now(), actor=actor, action="export", target=path.name, detail=detail)
        except BaseException:
            path.unlink(missing_ok=True)  # no unaudited file of full numbers
            raise
        return RejectsExport(import_id=import_id, exported=n, file=str(path))


@dataclass(frozen=True)
class ImportRequest:
    """One import's options, checked (`import_request`)."""

    kind: str
    path: Path
    overrides: dict[str, str]
    encoding: str = "auto"
    sheet: str | None = None
    dry_run: bool = False
    source: str | None = None
    memory_limit: int = 0  # bytes
    date_order: str | None = None  # dmy | mdy | ymd (--date-order), None: the data decides
    lang: str = "zh"


def import_request(
    kind: str,
    path: str | Path,
    *,
    mapping: MappingOption = None,
    encoding: str = "auto",
    sheet: str | None = None,
    dry_run: bool = False,
    source: str | None = None,
    import_memory: str = DEFAULT_IMPORT_MEMORY,
    date_order: str | None = None,
    lang: str = "zh",
) -> ImportRequest:
    """Check the options (memory ceiling, kind, --map, --date-order) before anything is read; an InputError names
    the bad one."""
    limit = import_memory_limit(import_memory)
    checked_kind = _check_kind(kind)
    overrides = parse_map_options(mapping) if isinstance(mapping, (list, tuple)) else dict(mapping or {})  # type: ignore[arg-type]
    order = _check_date_order(date_order, lang)
    return ImportRequest(checked_kind, Path(path), overrides, encoding, sheet, dry_run, source, limit, order, lang)


def _check_date_order(date_order: str | None, lang: str) -> str | None:
    if date_order is None or not date_order.strip():
        return None
    order = date_order.strip().lower().replace("-", "").replace("/", "")
    if order not in DATE_ORDERS:
        raise InputError(
            messages.text("bad_date_order", lang, given=date_order), hint=messages.text("bad_date_order_hint", lang)
        )
    return order


def import_file(
    db: DuckDBEngine,
    kind: str,
    path: str | Path,
    *,
    mapping: MappingOption = None,
    encoding: str = "auto",
    sheet: str | None = None,
    dry_run: bool = False,
    source: str | None = None,
    progress: Progress | None = None,
    import_memory: str = DEFAULT_IMPORT_MEMORY,
    date_order: str | None = None,
    lang: str = "zh",
) -> ImportResult:
    """Import one export file into the warehouse `db`, in one transaction.

    `mapping` is {source column: target field} (or a list of "SRC=DST" strings); a target of "-" keeps the
    column in `extra`. `import_memory` is the memory ceiling while importing (the `import_memory` setting).
    `date_order` (dmy, mdy, ymd) reads ambiguous dates that way instead of deciding from the data; `lang` is the
    language of the newer notes and messages (zh or en).
    Returns counts with rows_in = rows_loaded + rows_rejected + rows_duplicate.
    """
    req = import_request(
        kind,
        path,
        mapping=mapping,
        encoding=encoding,
        sheet=sheet,
        dry_run=dry_run,
        source=source,
        import_memory=import_memory,
        date_order=date_order,
        lang=lang,
    )
    with store.bounded_memory(db, req.memory_limit):
        return _run(db, req, progress or _silent)


def _silent(stage: str, done: int, total: int | None) -> None:
    return None


def _run(db: DuckDBEngine, req: ImportRequest, say: Progress) -> ImportResult:
    started = time.perf_counter()
    staged: readers.Staged | None = None
    hashing = ThreadPoolExecutor(max_workers=1)
    try:
        with _nothing_written(req.path), store.setting_off(db, "enable_progress_bar"):  # it would break `--json`
            staged = readers.stage(
                db, req.path, encoding=req.encoding, sheet=req.sheet, on_rows=lambda n: say("read", n, None)
            )
            say("read", staged.rows_in, staged.rows_in)
            # the file's hash (for the `imports` row) is computed while DuckDB validates: both release the GIL
            sha256 = hashing.submit(file_sha256, req.path)
            # row order matters only while the CSV staging table is filled (its rowid is the row number); every
            # later step carries `_row`, so DuckDB may reorder freely (faster parallel inserts and aggregates)
            with store.setting_off(db, "preserve_insertion_order"):
                plan, result = _validate_and_plan(db, req, staged, say)
                _check_adds_up(result, req.path)
                if not req.dry_run:
                    say("write", 0, result.rows_in)
                    result.import_id = store.write_import(
                        db,
                        plan,
                        result,
                        sha256=sha256.result(),
                        before_commit=lambda: say("commit", result.rows_in, result.rows_in),
                    )
                    if req.kind == "members":  # tier upgrades and other profile changes, kept as history
                        store_profile_history.record_changes(db, result.import_id)
        result.seconds = time.perf_counter() - started
        say("done", result.rows_in, result.rows_in)
        return result
    finally:
        hashing.shutdown(cancel_futures=True)
        store.cleanup(db, staged)


def _validate_and_plan(
    db: DuckDBEngine, req: ImportRequest, staged: readers.Staged, say: Progress
) -> tuple[Plan, ImportResult]:
    """Map and validate the staged rows, plan the writes, and count everything (nothing is written yet)."""
    cmap = resolve_mapping(req.kind, staged.columns, req.overrides)
    _check_required(req.kind, cmap, staged.columns, req.path, req.lang)
    shapes = detect_date_shapes(db, req.kind, cmap, staged.types, staged.names)
    decision = decide_date_format(shapes, req.date_order)
    build_parsed(db, req.kind, cmap, staged.names, decision.dm_order, staged.types)
    say("validate", staged.rows_in, staged.rows_in)
    plan = _plan(db, req.kind, cmap, staged.names, req.source)
    readers.drop_raw(db)  # frees the file's copy before the write (memory)
    result = ImportResult(
        import_id=None,
        kind=req.kind,
        file=str(req.path),
        file_format=staged.file_format,
        encoding=staged.encoding,
        rows_in=staged.rows_in,
        rows_loaded=plan.rows_loaded,
        rows_updated=plan.rows_updated,
        rows_rejected=count_parse_rejects(db) + plan.rows_rejected,
        rows_duplicate=plan.rows_duplicate,
        date_format=decision.label,
        mapping=cmap.as_source_to_target(),
        kept=list(cmap.kept),
        dry_run=req.dry_run,
        notes=([decision.note] if decision.note else []) + plan.notes + _notes(req, plan),
        blanked=store.blanked_counts(db),
        status_changes=plan.status_changes,
        identical_lines=plan.identical_lines,
        conflicts=plan.conflicts,
        conflicts_shown=store.conflicts_shown(db, SHOWN_CONFLICTS) if plan.conflicts else [],
        date_order=req.date_order,
    )
    return plan, result


def _notes(req: ImportRequest, plan: Plan) -> list[str]:
    """The notes of the newer rules, in the user's language."""
    out = []
    if req.date_order:
        out.append(messages.date_forced(req.date_order, req.lang))
    if plan.identical_lines:
        out.append(messages.text("identical_lines", req.lang, n=plan.identical_lines))
    if plan.status_changes:
        out.append(messages.text("status_changes", req.lang, n=plan.status_changes))
    if plan.conflicts:
        out.append(messages.conflicts(req.kind, plan.conflicts, min(plan.conflicts, SHOWN_CONFLICTS), req.lang))
    return out


def _plan(db: DuckDBEngine, kind: str, mapping: ColumnMapping, columns: Mapping[str, str], source: str | None) -> Plan:
    if kind in ("members", "stores", "staff"):
        return plan_master(db, kind, mapping, source)
    if kind == "orders":
        return plan_orders(db, mapping, columns)
    if kind == "order_items":
        return plan_order_items(db, mapping)
    return plan_events(db, mapping)


@contextlib.contextmanager
def _nothing_written(path: Path) -> Iterator[None]:
    """A statement that fails during the import: say which import failed and that nothing was written (the
    engine's message and the SQL it quotes are kept)."""
    try:
        yield
    except EngineError as exc:
        if exc.sql is None:  # not a failed statement (the counts check below): unchanged
            raise
        raise EngineError(
            _("the import of {file} failed and nothing was written: {message}", file=path.name, message=exc.message),
            hint=exc.hint,
            sql=exc.sql,
            kind=exc.kind,
        ) from exc


def _check_adds_up(result: ImportResult, path: Path) -> None:
    if not result.adds_up:
        raise EngineError(
            _(
                (
                    "import of {file} does not add up: {rows_in} rows in, {rows_loaded} loaded, {rows_rejected} "
                    "rejected, {rows_duplicate} duplicate"
                ),
                file=path.name,
                rows_in=result.rows_in,
                rows_loaded=result.rows_loaded,
                rows_rejected=result.rows_rejected,
                rows_duplicate=result.rows_duplicate,
            ),
            hint=_("Nothing was written. This is a bug in winback; please report it with the file's header."),
        )


def _check_kind(kind: str) -> str:
    k = normalise_kind(kind)
    if k not in KINDS:
        raise InputError(
            _('unknown import kind "{kind}"', kind=kind),
            hint=_("Use one of: members, orders, order-items, stores, staff, events."),
        )
    return k


def _check_required(kind: str, mapping: ColumnMapping, columns: Sequence[str], path: Path, lang: str = "zh") -> None:
    missing = [f for f in FIELDS[kind] if f.required and f.name not in mapping.fields]
    if kind == "members" and not ({"member_id", "wechat_id"} & set(mapping.fields)):
        missing.append(FIELDS["members"][0])
    if missing and messages.looks_like_data(columns):
        cells = ", ".join(columns[:6]) + (", …" if len(columns) > 6 else "")
        raise InputError(
            messages.text("headerless", lang, file=path.name, cells=cells), hint=messages.text("headerless_hint", lang)
        )
    if missing:
        names = ", ".join(f"{f.says} ({f.name})" for f in missing)
        raise InputError(
            _("{file} has no column for {names}", file=path.name, names=names),
            hint=_(
                "Its columns are: {columns}. Name the right one with --map COLUMN={name}.",
                columns=", ".join(columns),
                name=missing[0].name,
            ),
        )
