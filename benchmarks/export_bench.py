"""Members export speed as whole processes: `winback members --export FILE` (CSV, Parquet, XLSX) of every member
of a synthetic warehouse, this checkout against another source tree (the baseline) in the same run.

    .venv/bin/python benchmarks/export_bench.py [MEMBERS] [--formats csv,parquet,xlsx] [--baseline-src DIR]
        [--dir /work/scratch/export] [--repeat 1]

The warehouse is built as campaigns_bench.py builds it (members and a snapshot straight in SQL, no import or
refresh), then every member gets a phone and every tenth a name that would start a formula, so the safety rules
(masking, the leading quote) have work to do. Each export is `python -m winback.cli.main --db W members --export F
--json` in a child process; the figures are that process's wall and CPU seconds (os.wait4) and peak RSS. With
--repeat K the fastest of K runs is printed. Target (issue 14): 1M rows to CSV or Parquet <= 10 s. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import whole_process

NOW = "2026-11-02T09:00:00"


def build_warehouse(path: Path, members: int) -> None:
    from campaigns_bench import build

    from winback.app import Winback
    from winback.config import Settings

    with Winback(Settings(db_path=path)) as wb:
        db = wb.db()
        build(db, members)
        db.execute(
            "UPDATE members SET phone = '+861' || lpad(((hash(member_id) % 9000000000) + 1000000000)::VARCHAR, 10, "
            "'0'), wechat_id = 'wx_' || member_id, name = CASE WHEN member_id LIKE '%7' THEN "
            '\'=HYPERLINK("http://x/","点我")\' ELSE name END'
        )


def export(db: Path, out: Path, src: Path | None) -> dict[str, float]:
    env = {**os.environ, "WINBACK_NOW": NOW}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "winback.cli.main", "--db", str(db), "members", "--export", str(out), "--json"]
    done = whole_process.run(cmd, env)
    rows = json.loads(done.stdout)["count"]
    return {"wall": done.wall, "cpu": done.cpu, "rss": done.rss_mib, "rows": rows}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("members", nargs="?", type=int, default=1_000_000)
    p.add_argument("--formats", default="csv,parquet,xlsx")
    p.add_argument("--baseline-src", type=Path, default=None, help="a src/ directory of another checkout")
    p.add_argument("--dir", type=Path, default=Path("/work/scratch/export"))
    p.add_argument("--repeat", type=int, default=1)
    a = p.parse_args()
    a.dir.mkdir(parents=True, exist_ok=True)
    db = a.dir / f"export-m{a.members}.duckdb"
    if not db.exists():
        build_warehouse(db, a.members)
    trees = [("this", None)] + ([("baseline", a.baseline_src)] if a.baseline_src else [])
    print(f"{os.cpu_count()} cores; `winback members --export FILE` as a whole process; warehouse {db}")
    for fmt in [f for f in a.formats.split(",") if f]:
        for name, src in trees:
            load = os.getloadavg()[0]
            out = a.dir / f"members-{name}.{fmt}"
            r = min((export(db, out, src) for _ in range(max(1, a.repeat))), key=lambda x: x["wall"])
            print(f"{name:<9} {fmt:<8} {r['wall']:7.2f} s wall  cpu {r['cpu']:7.2f} s  "
                  f"{r['rows'] / r['wall']:>9,.0f} rows/s  {r['rows']:,} rows  {out.stat().st_size / 2**20:6.1f} MiB  "
                  f"peak RSS {r['rss']:,.0f} MiB  load avg before {load:.1f}", flush=True)  # fmt: skip
            out.unlink()


if __name__ == "__main__":
    main()
