"""`winback demo`: generate the demo brand, import its exports through the real import path, and summarise.

`DemoService(wb).run(out_dir, …)` (what entry points use: `wb.demo.run(…)`) generates the files, then imports,
dedupes, refreshes and reads the overview through the app's other services, exactly as an operator would.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.demo import exports as ex
from winback.demo import store, store_respond
from winback.demo.defaults import DEFAULT_END, DEFAULT_MEMBERS, DEFAULT_SEED, DEFAULT_YEARS
from winback.demo.types import DemoAnalysis, DemoImport, DemoSummary, DuplicatesFound
from winback.demo.vocab import BRAND_EN, BRAND_ZH
from winback.demo.wechat import WECHAT_MAPPING
from winback.errors import InputError
from winback.i18n import _, t

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.demo.brand import DemoSpec
    from winback.demo.generate import Generated
    from winback.demo.respond import RespondResult

#: progress(stage, done, total): stage is "generate", "import:<file>:<step>", "dedupe" or "refresh"
Progress = Callable[[str, int, int | None], None]

MAX_MEMBERS = 50_000_000
PARQUET_ONLY_ABOVE = 1_000_000  # bigger brands are written as Parquet only (no GBK CSV, no XLSX)
MANIFEST = "manifest.json"
#: the demo's first refresh runs in the warehouse itself, whatever engine the settings name (as it always has)
DEMO_ENGINE = "duckdb"


def check_options(members: int, years: int, end: dt.date) -> None:
    if not 100 <= members <= MAX_MEMBERS:
        raise InputError(
            _(
                "--members must be between 100 and {max_members:,}; {members:,} was given",
                max_members=MAX_MEMBERS,
                members=members,
            ),
            hint=_("The default is 200000; use 10000000 for a benchmark-sized brand."),
        )
    if not 1 <= years <= 10:
        raise InputError(
            _("--years must be between 1 and 10; {years} was given", years=years), hint=_("The default is 3.")
        )
    if not dt.date(2015, 1, 1) + dt.timedelta(days=366 * years) <= end <= dt.date(2029, 12, 31):
        raise InputError(
            _(
                "--end must be a date between {first}-01-02 and 2029-12-31 for {years} years; {end} was given",
                first=2015 + years,
                years=years,
                end=end,
            ),
            hint=_("The default is 2026-11-20 (the history's last day)."),
        )


def import_plan() -> list[tuple[str, str, dict[str, str] | None, str | None]]:
    """(file key, import kind, explicit column mapping, source) in import order."""
    return [
        ("stores", "stores", None, None),
        ("staff", "staff", None, None),
        ("members", "members", None, "erp"),
        ("wechat", "members", dict(WECHAT_MAPPING), "guide_wechat"),
        ("orders", "orders", None, None),
    ]


def layout_for(members: int, parquet_only: bool | None) -> str:
    """Parquet only when asked, or (by default) above PARQUET_ONLY_ABOVE members; else GBK CSV + XLSX + Parquet."""
    return ex.PARQUET if (parquet_only if parquet_only is not None else members > PARQUET_ONLY_ABOVE) else ex.MIXED


class DemoService:
    """The demo brand on the app's warehouse."""

    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    def run(
        self,
        out_dir: str | Path,
        *,
        members: int = DEFAULT_MEMBERS,
        years: int = DEFAULT_YEARS,
        seed: int = DEFAULT_SEED,
        end: dt.date = DEFAULT_END,
        progress: Progress | None = None,
        parquet_only: bool | None = None,
        do_import: bool = True,
        force: bool = False,
    ) -> DemoSummary:
        """Generate the brand into `out_dir`, import it into the app's warehouse, return the summary.

        `parquet_only` (default: above 1M members) writes members and contacts as Parquet instead of GBK CSV and
        XLSX. `do_import=False` only writes the files (for benchmarks that time the import themselves).
        A warehouse that holds data and was not made by `winback demo` is refused unless `force`.
        """
        from winback.demo.brand import DemoSpec
        from winback.demo.generate import generate

        check_options(members, years, end)
        spec = DemoSpec(members=members, years=years, seed=seed, end=end)
        out, db_path = Path(out_dir), Path(self.wb.settings.db_path)
        ours = True  # the warehouse is new, empty or a demo's: the demo marks it as its own
        if do_import:
            ours = self._check_warehouse_is_free(db_path, out, spec, force)
        say: Progress = progress or _silent
        layout = layout_for(members, parquet_only)
        gen = generate(spec, out, layout=layout, progress=say)
        summary = summarise(spec, gen, layout, db_path if do_import else None)
        (out / ex.TRUTH_DIR / MANIFEST).write_text(
            json.dumps(summary.manifest(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        analysis_seconds: dict[str, float] = {}
        if do_import:
            if ours:  # a forced import into a brand's own data does not make it a demo warehouse
                store_respond.mark_demo(self.wb.db(), spec_dict(spec), self.wb.now())
            summary.imports = self._import_all(db_path, gen, say)
            summary.warehouse = store.warehouse_counts(self.wb.db(write=False))
            summary.analysis, analysis_seconds = self._analyse(say)
        summary.seconds = {"generate": round(gen.seconds, 2)} | {
            "import": round(sum(r.seconds for r in summary.imports or []), 2)
        }
        summary.seconds |= analysis_seconds
        return summary

    def _check_warehouse_is_free(self, db_path: Path, out: Path, spec: DemoSpec, force: bool = False) -> bool:
        """Refuse to mix the demo into a warehouse that holds other members; re-running the same demo is fine
        (every import then finds its rows already there and adds nothing). A warehouse with data that was not
        made by `winback demo` (no demo marker) is refused unless `force`. True when the warehouse is new, empty
        or a demo's (the demo then marks it)."""
        if not db_path.exists():
            return True
        db = self.wb.db()
        ours = store_respond.demo_marker(db) is not None or not store_respond.holds_data(db)
        if force:
            return ours
        self.check_demo_warehouse("winback demo")
        held = store.members_held(self.wb.db(write=False))
        if not held:
            return True
        previous = store_respond.demo_marker(self.wb.db())
        manifest = out / ex.TRUTH_DIR / MANIFEST
        try:
            previous = previous or json.loads(manifest.read_text(encoding="utf-8")).get("spec")
        except (OSError, ValueError):
            previous = None
        if previous != spec_dict(spec):
            raise InputError(
                _(
                    (
                        "the warehouse {db_path} already holds {held:,} members that are not this demo "
                        "brand (members={members}, seed={seed}, end={end})"
                    ),
                    db_path=db_path,
                    held=held,
                    members=spec.members,
                    seed=spec.seed,
                    end=spec.end,
                ),
                hint=_("Give the demo its own warehouse with --db PATH (or delete that file first)."),
            )
        return True

    def check_demo_warehouse(self, command: str) -> None:
        """The demo guard: refuse a warehouse that holds data and carries no demo marker (not made by
        `winback demo`), so synthetic members, orders and redemptions never land in a real brand's data."""
        db = self.wb.db()
        if store_respond.demo_marker(db) is None and store_respond.holds_data(db):
            lang = self.wb.settings.lang
            raise InputError(
                t(
                    "the warehouse {path} was not made by `winback demo`: `{command}` writes synthetic data and "
                    "refuses it",
                    lang,
                    path=self.wb.settings.db_path,
                    command=command,
                ),
                hint=t(
                    "Give the demo its own warehouse with --db PATH, or add --force if this really is a demo "
                    "warehouse (e.g. one made before the demo marker existed).",
                    lang,
                ),
            )

    def respond(
        self,
        campaign_id: str,
        *,
        uplift: str | None = None,
        seed: int | None = None,
        until: dt.date | None = None,
        force: bool = False,
    ) -> RespondResult:
        """`winback demo respond`: simulated answers to a launched campaign, up to the brand's now (or the end of
        `until`); refused on a warehouse not made by `winback demo` unless `force`."""
        from winback.demo.respond import parse_uplift, respond, until_of_date

        if not force:
            self.check_demo_warehouse("winback demo respond")
        now = self.wb.now()
        spec = parse_uplift(uplift) if uplift else None
        until_at, lang = until_of_date(until, now), self.wb.settings.lang
        return respond(self.wb.db(), campaign_id, uplift=spec, seed=seed, now=now, until=until_at, lang=lang)

    def _import_all(self, db_path: Path, gen: Generated, say: Progress) -> list[DemoImport]:
        """Every export file through the real import path, in `import_plan` order."""
        db_path.parent.mkdir(parents=True, exist_ok=True)
        store.quiet(self.wb.db())
        results = []
        for key, kind, mapping, source in import_plan():
            path = gen.files[key]
            started = time.perf_counter()
            res = self.wb.ingest.import_file(
                kind,
                path,
                mapping=mapping,
                source=source,
                progress=lambda stage, done, total, name=path.name: say(f"import:{name}:{stage}", done, total),
            )
            results.append(_imported(path.name, kind, res.to_dict(), round(time.perf_counter() - started, 2)))
        return results

    def _analyse(self, say: Progress) -> tuple[DemoAnalysis, dict[str, float]]:
        """After the import, do what an operator does first: look for duplicates (report only, nothing merged),
        build the member snapshot, and read the overview (valid members, dormancy layers, who is worth waking)."""
        store.quiet(self.wb.db())
        t0 = time.perf_counter()
        say("dedupe", 0, None)
        found = self.wb.identity.dedupe(sample=0)
        t1 = time.perf_counter()
        say("refresh", 0, None)
        # summed for the pages too: the Quick start opens the console next (200k members: seconds)
        snap = self.wb.lifecycle.refresh(engine=DEMO_ENGINE, prepare=True)
        t2 = time.perf_counter()
        overview = self.wb.overview.overview(snap.as_of)
        dedupe = DuplicatesFound(
            run_id=found.run_id,
            threshold=found.threshold,
            members=found.members,
            clusters=found.clusters,
            duplicates=found.duplicates,
        )
        analysis = DemoAnalysis(dedupe=dedupe, refresh=snap, overview=overview)
        return analysis, {"dedupe": round(t1 - t0, 2), "refresh": round(t2 - t1, 2)}


def _silent(stage: str, done: int, total: int | None) -> None:
    return None


def spec_dict(spec: DemoSpec) -> dict[str, Any]:
    return {"members": spec.members, "years": spec.years, "seed": spec.seed, "start": spec.start.isoformat(),
            "end": spec.end.isoformat()}  # fmt: skip


def _imported(file: str, kind: str, d: dict[str, Any], seconds: float) -> DemoImport:
    return DemoImport(
        file=file,
        kind=kind,
        rows_in=d["rows_in"],
        rows_loaded=d["rows_loaded"],
        rows_rejected=d["rows_rejected"],
        rows_duplicate=d["rows_duplicate"],
        encoding=d["encoding"],
        date_format=d["date_format"],
        seconds=seconds,
        import_id=d["import_id"],
    )


def summarise(spec: DemoSpec, gen: Generated, layout: str, db_path: Path | None) -> DemoSummary:
    return DemoSummary(
        brand={"zh": BRAND_ZH, "en": BRAND_EN},
        db=str(db_path) if db_path else None,
        out_dir=str(gen.files["stores"].parent),
        layout=layout,
        spec=spec_dict(spec),
        members=gen.members,
        orders=gen.orders,
        order_rows=gen.order_rows,
        refunds=gen.refunds,
        revenue=gen.revenue,
        stores=gen.stores,
        guides=gen.guides,
        wechat_contacts=gen.wechat_contacts,
        planted_duplicates=gen.duplicates,
        generated={
            "files": {k: str(v) for k, v in gen.files.items()},
            "share_no_purchase_90d": round(gen.truth["share_no_purchase_90d"], 4),
            "share_never_purchased": round(gen.truth["share_never_purchased"], 4),
        },
    )
