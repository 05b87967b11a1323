"""Import speed and memory: orders from Parquet, UTF-8 CSV, GBK CSV and XLSX.

Generates its own line-level order export (numpy/pyarrow; Chinese headers, ￥ amounts on some rows, refunds),
then imports each file into a fresh warehouse with the CLI in a child process and prints rows/s, CPU and the
child's peak RSS.

    .venv/bin/python benchmarks/import_bench.py [--rows 3000000] [--dir /tmp/winback-import-bench]
        [--formats parquet,csv-utf8,csv-gbk,xlsx] [--repeat 1] [--xlsx-rows 200000] [--baseline-src DIR]

Each import is `winback --db DB import orders FILE --json` as a whole process (the interpreter's start, the
imports, reading, validating, writing and the commit), into a freshly created and migrated warehouse; with
--baseline-src DIR (the src/ of another checkout, e.g. `git worktree add /tmp/base 708bed9`) the same file is
imported by that tree too, in the same run, so the two figures see the same machine.

`xlsx` is an 8-column sheet of the first --xlsx-rows lines (no SKU column), written with openpyxl's write-only
mode: the read speed of the XLSX reader (calamine via fastexcel; openpyxl before issue 9).

With --repeat N each file is imported N times (fresh warehouse each time) and the fastest run is printed: on a
shared machine the fastest run is the one least disturbed by other work.

Targets (issue 2): >= 1M rows/s from Parquet, >= 300k rows/s from UTF-8 CSV, GBK <= 1.5x UTF-8 time.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
import whole_process

HEADERS = {
    "order_id": "小票号",
    "member_id": "会员卡号",
    "store_id": "门店",
    "guide_id": "导购",
    "ordered_at": "销售时间",
    "amount": "实收金额",
    "quantity": "件数",
    "status": "状态",
    "sku": "商品编码",
}


def make_orders(rows: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    lines = rng.integers(1, 4, size=rows)  # 1-3 lines per order
    order_no = np.repeat(np.arange(rows), lines)[:rows]
    start = np.datetime64("2022-01-01T00:00:00")
    secs = rng.integers(0, 3 * 365 * 86400, size=int(order_no.max()) + 1)[order_no]
    ts = (start + secs.astype("timedelta64[s]")).astype(str)
    amount = np.round(rng.gamma(2.0, 120.0, size=rows), 2)
    refund = rng.random(rows) < 0.03
    amount = np.where(refund, -amount, amount)
    amount_txt = np.char.mod("%.2f", amount)
    yen = rng.random(rows) < 0.1
    amount_txt = np.where(yen, np.char.add("￥", amount_txt), amount_txt)
    status = np.where(refund, "退货", "已付款")
    return pa.table(
        {
            HEADERS["order_id"]: pa.array(np.char.add("T", order_no.astype(str))),
            HEADERS["member_id"]: pa.array(np.char.add("M", rng.integers(0, rows // 4 + 1, size=rows).astype(str))),
            HEADERS["store_id"]: pa.array(np.char.add("S", rng.integers(0, 300, size=rows).astype(str))),
            HEADERS["guide_id"]: pa.array(np.char.add("G", rng.integers(0, 3000, size=rows).astype(str))),
            HEADERS["ordered_at"]: pa.array(np.char.replace(ts, "T", " ")),
            HEADERS["amount"]: pa.array(amount_txt),
            HEADERS["quantity"]: pa.array(rng.integers(1, 4, size=rows).astype(str)),
            HEADERS["status"]: pa.array(status),
            HEADERS["sku"]: pa.array(np.char.add("SKU", rng.integers(0, 5000, size=rows).astype(str))),
        }
    )


def typed_for_parquet(table: pa.Table) -> pa.Table:
    """Parquet exports carry types: times as TIMESTAMP, money as DECIMAL, counts as integers."""
    at = pc.strptime(table[HEADERS["ordered_at"]], format="%Y-%m-%d %H:%M:%S", unit="s")
    amount_txt = pc.replace_substring(table[HEADERS["amount"]], "￥", "")
    amount = pc.cast(amount_txt, pa.decimal128(18, 2))
    qty = pc.cast(table[HEADERS["quantity"]], pa.int32())
    out = table
    for name, col in ((HEADERS["ordered_at"], at), (HEADERS["amount"], amount), (HEADERS["quantity"], qty)):
        out = out.set_column(out.schema.get_field_index(name), name, col)
    return out


FILES = {"parquet": "orders.parquet", "csv-utf8": "orders.csv", "csv-gbk": "orders_gbk.csv", "xlsx": "orders.xlsx"}


def write_xlsx(table: pa.Table, path: Path, rows: int) -> None:
    import openpyxl

    t = table.slice(0, rows).drop_columns([HEADERS["sku"]])
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet("orders")
    ws.append(t.column_names)
    cols = [c.to_pylist() for c in t.columns]
    for row in zip(*cols, strict=True):
        ws.append(list(row))
    book.save(path)


def write_files(table: pa.Table, d: Path, formats: list[str], xlsx_rows: int = 200_000) -> None:
    d.mkdir(parents=True, exist_ok=True)
    files = {name: d / FILES[name] for name in FILES}
    if "parquet" in formats:
        pq.write_table(typed_for_parquet(table), files["parquet"])
    if "csv-utf8" in formats or "csv-gbk" in formats:
        pacsv.write_csv(table, files["csv-utf8"])
    if "xlsx" in formats:
        write_xlsx(table, files["xlsx"], xlsx_rows)
    if "csv-gbk" in formats:
        enc = codecs.getincrementalencoder("gbk")()
        with files["csv-utf8"].open("r", encoding="utf-8") as fin, files["csv-gbk"].open("wb") as fout:
            while chunk := fin.read(1 << 20):
                fout.write(enc.encode(chunk))


PREPARE = """
import sys
from winback.app import Winback
from winback.config import Settings
with Winback(Settings.load(db_path=sys.argv[1])) as wb:
    wb.db()  # create and migrate the warehouse: the timed import then loads into an existing, empty warehouse
"""


def run_import(db: Path, file: Path, src: Path | None = None) -> dict[str, float]:
    """`winback --db DB import orders FILE --json` as a whole process (interpreter start, imports, reading,
    validating, writing, commit) on a fresh, migrated warehouse; wall, CPU and peak RSS of that process."""
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src)} if src is not None else dict(os.environ)
    subprocess.run([sys.executable, "-c", PREPARE, str(db)], check=True, env=env)
    cmd = [sys.executable, "-m", "winback.cli.main", "--db", str(db), "import", "orders", str(file), "--json"]
    done = whole_process.run(cmd, env)
    r = json.loads(done.stdout)
    return {"seconds": done.wall, "rows_in": r["rows_in"], "loaded": r["rows_loaded"], "rejected": r["rows_rejected"],
            "peak_rss_mb": done.rss_mib, "cpu": done.cpu}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/winback-import-bench"))
    ap.add_argument("--formats", default=",".join(FILES), help="comma-separated: " + ", ".join(FILES))
    ap.add_argument("--repeat", type=int, default=1, help="imports per file; the fastest is printed")
    ap.add_argument("--baseline-src", type=Path, default=None, help="a src/ directory of another checkout, timed too")
    ap.add_argument("--xlsx-rows", type=int, default=200_000, help="rows of the xlsx file (8 columns)")
    args = ap.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    unknown = sorted(set(formats) - set(FILES))
    if unknown:
        ap.error(f"unknown format(s) {', '.join(unknown)}; use {', '.join(FILES)}")
    t = time.perf_counter()
    files = {name: args.dir / FILES[name] for name in formats}
    marker = args.dir / f".rows-{args.rows}"
    if not (marker.exists() and all(p.exists() for p in files.values())):  # files of an earlier run are reused
        for old in args.dir.glob(".rows-*"):
            old.unlink()
        write_files(make_orders(args.rows), args.dir, formats, args.xlsx_rows)
        marker.touch()
        print(f"generated {args.rows:,} order lines in {time.perf_counter() - t:.1f}s")
    results = {}
    cores = os.cpu_count() or 1
    print(f"{cores} cores; 'cpu-bound rows/s' = rows / (process CPU seconds / cores), what an idle machine would do")
    print("timed: `winback --db DB import orders FILE --json` as a whole process, fresh migrated warehouse")
    trees = [("this", None)] + ([("baseline", args.baseline_src)] if args.baseline_src else [])
    for name, path in files.items():
        for tree, src in trees:
            load = os.getloadavg()[0]
            runs = [run_import(args.dir / "bench.duckdb", path, src) for _ in range(max(1, args.repeat))]
            r = min(runs, key=lambda x: x["seconds"])
            results.setdefault(name, r)
            size = path.stat().st_size / 2**20
            print(
                f"{tree:8s} {name:9s} {size:5.0f} MiB  {r['seconds']:6.2f}s wall "
                f"{r['rows_in'] / r['seconds']:>10,.0f} rows/s  cpu {r['cpu']:6.2f}s  "
                f"cpu-bound {r['rows_in'] / (r['cpu'] / cores):>10,.0f} rows/s  peak RSS {r['peak_rss_mb']:,.0f} MiB  "
                f"loaded {r['loaded']:,}  load avg before {load:.1f}"
                + (f"  (fastest of {len(runs)})" if len(runs) > 1 else ""),
                flush=True,
            )
    if "csv-gbk" in results and "csv-utf8" in results:
        ratio = results["csv-gbk"]["seconds"] / results["csv-utf8"]["seconds"]
        cpu_ratio = results["csv-gbk"]["cpu"] / results["csv-utf8"]["cpu"]
        print(f"GBK / UTF-8: {ratio:.2f}x wall, {cpu_ratio:.2f}x cpu")
    (args.dir / "bench.duckdb").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
