"""`run_demo`: generate the demo brand, import its exports through the real import path, and summarise."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from winback.demo import exports as ex
from winback.demo.brand import DEFAULT_END, DEFAULT_MEMBERS, DEFAULT_SEED, DEFAULT_YEARS, DemoSpec
from winback.demo.generate import Generated, generate
from winback.demo.vocab import BRAND_EN, BRAND_ZH
from winback.demo.wechat import WECHAT_MAPPING
from winback.errors import InputError

#: progress(stage, done, total): stage is "generate" or "import:<file>"
Progress = Callable[[str, int, int | None], None]

MAX_MEMBERS = 50_000_000
PARQUET_ONLY_ABOVE = 1_000_000  # bigger brands are written as Parquet only (no GBK CSV, no XLSX)
MANIFEST = "manifest.json"


def check_options(members: int, years: int, end: dt.date) -> None:
    if not 100 <= members <= MAX_MEMBERS:
        raise InputError(
            f"--members must be between 100 and {MAX_MEMBERS:,}; {members:,} was given",
            hint="The default is 200000; use 10000000 for a benchmark-sized brand.",
        )
    if not 1 <= years <= 10:
        raise InputError(f"--years must be between 1 and 10; {years} was given", hint="The default is 3.")
    if not dt.date(2015, 1, 1) + dt.timedelta(days=366 * years) <= end <= dt.date(2029, 12, 31):
        raise InputError(
            f"--end must be a date between {2015 + years}-01-02 and 2029-12-31 for {years} years; {end} was given",
            hint="The default is 2026-11-20 (the history's last day).",
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


def run_demo(
    db_path: str | Path,
    out_dir: str | Path,
    members: int = DEFAULT_MEMBERS,
    years: int = DEFAULT_YEARS,
    seed: int = DEFAULT_SEED,
    end: dt.date = DEFAULT_END,
    progress: Progress | None = None,
    *,
    parquet_only: bool | None = None,
    do_import: bool = True,
) -> dict[str, Any]:
    """Generate the brand into `out_dir`, import it into the warehouse at `db_path`, return the summary.

    `parquet_only` (default: above 1M members) writes members and contacts as Parquet instead of GBK CSV and
    XLSX. `do_import=False` only writes the files (for benchmarks that time the import themselves).
    """
    check_options(members, years, end)
    spec = DemoSpec(members=members, years=years, seed=seed, end=end)
    out = Path(out_dir)
    if do_import:
        _check_warehouse_is_free(Path(db_path), out, spec)
    layout = ex.PARQUET if (parquet_only if parquet_only is not None else members > PARQUET_ONLY_ABOVE) else ex.MIXED
    say: Progress = progress or (lambda stage, done, total: None)
    gen = generate(spec, out, layout=layout, progress=say)
    summary = _summary(spec, gen, layout, Path(db_path) if do_import else None)
    (out / ex.TRUTH_DIR / MANIFEST).write_text(
        json.dumps({k: summary[k] for k in ("brand", "spec", "generated")}, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    if do_import:
        summary["imports"] = _import_all(Path(db_path), gen, say)
        summary["warehouse"] = _warehouse_counts(Path(db_path))
        summary["analysis"] = _analyse(Path(db_path), say)
    summary["seconds"] = {"generate": round(gen.seconds, 2)} | {
        "import": round(sum(r["seconds"] for r in summary.get("imports", [])), 2)
    }
    if "analysis" in summary:
        summary["seconds"] |= summary["analysis"].pop("seconds")
    return summary


def _analyse(db_path: Path, say: Progress) -> dict[str, Any]:
    """After the import, do what an operator does first: look for duplicates (report only, nothing merged),
    build the member snapshot, and read the overview (valid members, dormancy layers, who is worth waking)."""
    from winback.engine import DuckDBEngine
    from winback.identity.service import dedupe
    from winback.lifecycle.refresh import refresh
    from winback.overview.service import brand_overview
    from winback.warehouse import connect

    con = connect(db_path)
    con.execute("SET enable_progress_bar = false")
    try:
        t0 = time.perf_counter()
        say("dedupe", 0, None)
        found = dedupe(con, sample=0)
        t1 = time.perf_counter()
        say("refresh", 0, None)
        snap = refresh(DuckDBEngine(con), warehouse=con)
        t2 = time.perf_counter()
        overview = brand_overview(con, snap.as_of)
    finally:
        con.close()
    return {
        "dedupe": {k: found[k] for k in ("run_id", "threshold", "members", "clusters", "duplicates")},
        "refresh": snap.to_dict(),
        "overview": overview,
        "seconds": {"dedupe": round(t1 - t0, 2), "refresh": round(t2 - t1, 2)},
    }


def _spec_dict(spec: DemoSpec) -> dict[str, Any]:
    return {"members": spec.members, "years": spec.years, "seed": spec.seed, "start": spec.start.isoformat(),
            "end": spec.end.isoformat()}  # fmt: skip


def _check_warehouse_is_free(db_path: Path, out: Path, spec: DemoSpec) -> None:
    """Refuse to mix the demo into a warehouse that holds other members; re-running the same demo is fine (every
    import then finds its rows already there and adds nothing)."""
    if not db_path.exists():
        return
    from winback.warehouse import connect

    con = connect(db_path, read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM members").fetchone()
    finally:
        con.close()
    held = int(row[0]) if row else 0
    if not held:
        return
    manifest = out / ex.TRUTH_DIR / MANIFEST
    try:
        previous = json.loads(manifest.read_text(encoding="utf-8")).get("spec")
    except (OSError, ValueError):
        previous = None
    if previous != _spec_dict(spec):
        raise InputError(
            f"the warehouse {db_path} already holds {held:,} members that are not this demo brand "
            f"(members={spec.members}, seed={spec.seed}, end={spec.end})",
            hint="Give the demo its own warehouse with --db PATH (or delete that file first).",
        )


def _summary(spec: DemoSpec, gen: Generated, layout: str, db_path: Path | None) -> dict[str, Any]:
    return {
        "brand": {"zh": BRAND_ZH, "en": BRAND_EN},
        "db": str(db_path) if db_path else None,
        "out_dir": str(gen.files["stores"].parent),
        "layout": layout,
        "spec": _spec_dict(spec),
        "members": gen.members,
        "orders": gen.orders,
        "order_rows": gen.order_rows,
        "refunds": gen.refunds,
        "revenue": gen.revenue,
        "stores": gen.stores,
        "guides": gen.guides,
        "wechat_contacts": gen.wechat_contacts,
        "planted_duplicates": gen.duplicates,
        "generated": {
            "files": {k: str(v) for k, v in gen.files.items()},
            "share_no_purchase_90d": round(gen.truth["share_no_purchase_90d"], 4),
            "share_never_purchased": round(gen.truth["share_never_purchased"], 4),
        },
    }


def _import_all(db_path: Path, gen: Generated, say: Progress) -> list[dict[str, Any]]:
    from winback.ingest.service import import_file  # the real import path
    from winback.warehouse import connect

    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = connect(db_path)
    con.execute("SET enable_progress_bar = false")  # progress is ours to show; stdout may be carrying --json
    results: list[dict[str, Any]] = []
    try:
        for key, kind, mapping, source in import_plan():
            path = gen.files[key]
            started = time.perf_counter()
            res = import_file(
                con,
                kind,
                path,
                mapping=mapping,
                source=source,
                progress=lambda stage, done, total, name=path.name: say(f"import:{name}:{stage}", done, total),
            )
            d = res.to_dict()
            d["seconds"] = round(time.perf_counter() - started, 2)
            results.append(
                {
                    "file": path.name,
                    "kind": kind,
                    "rows_in": d["rows_in"],
                    "rows_loaded": d["rows_loaded"],
                    "rows_rejected": d["rows_rejected"],
                    "rows_duplicate": d["rows_duplicate"],
                    "encoding": d["encoding"],
                    "date_format": d["date_format"],
                    "seconds": d["seconds"],
                    "import_id": d["import_id"],
                }
            )
    finally:
        con.close()
    return results


def _warehouse_counts(db_path: Path) -> dict[str, Any]:
    from winback.warehouse import connect

    con = connect(db_path, read_only=True)
    try:
        row = con.execute(
            "SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM members WHERE source = 'guide_wechat'), "
            "(SELECT count(*) FROM members WHERE phone_status IN ('invalid', 'missing')), "
            "(SELECT count(*) FROM orders), (SELECT count(*) FROM orders WHERE member_id IS NULL), "
            "(SELECT count(*) FROM orders WHERE status = 'refunded'), "
            "(SELECT coalesce(sum(amount), 0)::DOUBLE FROM orders WHERE status IN ('paid', 'refunded'))"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    keys = ("members", "wechat_members", "bad_phones", "orders", "walk_in_orders", "refund_orders", "revenue")
    return dict(
        zip(keys, (float(v) if k == "revenue" else int(v) for k, v in zip(keys, row, strict=True)), strict=True)
    )
