"""`winback measure` over a large member-level file: peak memory (RSS of the child process) and wall time.

    .venv/bin/python benchmarks/measure_bench.py [--rows 3000000] [--formats csv,parquet,xlsx] [--keep DIR]

Each format is written once (member id, arm label, revenue with a thousands separator now and then, 0/1 bought),
then `winback measure FILE --arm 分组 --control 对照组 --outcome 消费金额 --outcome 是否购买 --json` runs in a child
process; the child's peak RSS and CPU seconds come from getrusage(RUSAGE_CHILDREN) of a fresh bench process
whose only child it is. `import_only_peak_mib` is `winback --help`; measuring a 4-row file costs ≈ 166 MiB (numpy,
scipy, pyarrow loaded), so that is the floor of every figure below.

Figures (3,000,000 rows; 2 cores shared by ~8 busy processes, so CPU seconds, not wall; before = the commit
before issue 15's streaming, run from a checkout of it in the same session, after = streaming):

    file                    before: peak RSS, CPU     after: peak RSS, CPU
    CSV 77.0 MiB            1,050 MiB, 15.8 s          238 MiB, 4.3 s
    Parquet 18.4 MiB        1,087 MiB, 10.3 s          217 MiB, 3.3 s
    XLSX 1,000,000 rows     (not run before)           282 MiB, 644 s wall (openpyxl, read-only, streamed)

Above the 166 MiB floor the old reader held ≈ 11.5× the CSV (885 MiB); the streamed one ≈ 70 MiB whatever the
length (1M rows: 226 MiB, 3M rows: 234 MiB in one run). Results equal the old ones to ≈ 1e-13.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WINBACK = [sys.executable, "-m", "winback"]
ARMS = np.array(["对照组", "短信券 A", "导购回访 B"])


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    """A UTF-8 CSV of `rows` members, written in chunks (the bench itself stays small)."""
    rng = np.random.default_rng(seed)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("会员编号,分组,消费金额,是否购买\n")
        for start in range(0, rows, 200_000):
            n = min(200_000, rows - start)
            arm = ARMS[rng.integers(0, len(ARMS), n)]
            bought = rng.random(n) < 0.12
            revenue = np.where(bought, np.round(rng.gamma(2.0, 180.0, n), 2), 0.0)
            ids = np.arange(start, start + n)
            f.writelines(
                f"M{i:08d},{a},{_money(r)},{int(b)}\n" for i, a, r, b in zip(ids, arm, revenue, bought, strict=True)
            )


def _money(r: float) -> str:
    """Amounts as tills export them: plain, or quoted with a thousands separator from 1,000 up."""
    return f'"{r:,.2f}"' if r >= 1000 else f"{r:g}"


def write_parquet(csv_path: Path, path: Path) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    t = pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(column_types={"消费金额": "string"}))
    pq.write_table(t, path)


def write_xlsx(csv_path: Path, path: Path, rows: int) -> None:
    import csv

    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet()
    with csv_path.open(encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f)):
            if i > min(rows, 1_000_000):
                break
            for j, v in enumerate(row):
                ws.write(i, j, v)
    wb.close()


def run(file: Path) -> dict[str, float]:
    """One `winback measure` child: wall and CPU seconds and its peak RSS in MiB (this process has no other child)."""
    args = [*WINBACK, "measure", str(file), "--arm", "分组", "--control", "对照组", "--outcome", "消费金额",
            "--outcome", "是否购买", "--json"]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "WINBACK_LANG": "en"})
    wall = time.perf_counter() - t0
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"measure failed on {file}: {done.stderr or done.stdout}")
    out = json.loads(done.stdout)
    return {"seconds": round(wall, 2), "cpu_seconds": round(use.ru_utime + use.ru_stime, 2),
            "peak_mib": round(use.ru_maxrss / 1024, 1), "rows": out["rows"]}  # fmt: skip


def baseline() -> float:
    """Peak RSS (MiB) of a child that only loads the CLI (what every command costs before it reads anything)."""
    code = "import resource, subprocess, sys; subprocess.run([sys.executable, '-m', 'winback', '--help'], " \
        "capture_output=True, check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return round(int(out) / 1024, 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=3_000_000)
    p.add_argument("--formats", default="csv,parquet")
    p.add_argument("--keep", type=Path, default=None, help="write the files here and keep them")
    a = p.parse_args()
    formats = a.formats.split(",")
    out_dir = a.keep or Path(tempfile.mkdtemp(prefix="measure-bench-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"results-{a.rows}.csv"
    if not csv_path.exists():
        write_csv(csv_path, a.rows)
    files = {"csv": csv_path}
    if "parquet" in formats:
        files["parquet"] = out_dir / f"results-{a.rows}.parquet"
        if not files["parquet"].exists():
            write_parquet(csv_path, files["parquet"])
    if "xlsx" in formats:
        files["xlsx"] = out_dir / f"results-{min(a.rows, 1_000_000)}.xlsx"
        if not files["xlsx"].exists():
            write_xlsx(csv_path, files["xlsx"], a.rows)
    report: dict[str, object] = {"rows": a.rows, "import_only_peak_mib": baseline()}
    # one child per format, each in its own bench process: RUSAGE_CHILDREN keeps the largest child's peak
    for fmt in formats:
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(files[fmt])], capture_output=True, text=True, check=True
        ) if "--one" not in sys.argv else None  # fmt: skip
        assert child is not None
        res = json.loads(child.stdout)
        res["file_mib"] = round(files[fmt].stat().st_size / 2**20, 1)
        report[fmt] = res
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(run(Path(sys.argv[2]))))
    else:
        main()
