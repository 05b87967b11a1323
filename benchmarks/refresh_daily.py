"""A brand's day at 10M members (issue 14): full rebuild, then a day of orders and the incremental refresh, each
next to the bare DuckDB GROUP BY over all orders measured in the same run.

    .venv/bin/python benchmarks/refresh_daily.py --data /work/bench-data --work /tmp/winback-daily
    .venv/bin/python benchmarks/refresh_daily.py --members 100000 --orders 1000000     # small, generated

The warehouse of benchmarks/refresh.py (generated once, or the shared copy under --data) is copied to --work
(never written in place), opened once as the app would (migrations up to 015: the stored snapshot becomes a row of
the member_snapshot view, checked row for row), then the phases run one at a time, each in its own process (its
own peak memory, VmHWM):
  groupby      CREATE TEMP TABLE AS SELECT member_id, count(*), max(ordered_at), sum(amount) FROM orders GROUP BY 1
  full         refresh(full=True) at 2025-11-01: every member's facts from all orders, fits, the view
  day          not timed as a refresh: ~100k orders dated 2025-11-01 for ~90k members imported through
               winback's importer (a CSV file, as a brand's daily export)
  incremental  refresh at 2025-11-02: only the members whose facts changed; the fit of the day before reused
               (refresh() timed in the phase process, as --profile sees it)
  winback      the same incremental refresh as a user runs it, on a copy of the warehouse made before it: the whole
               `winback --db DB refresh --as-of 2025-11-02 --json` process (interpreter start, imports, opening the
               warehouse, the refresh, the checkpoint at close), wall time from start to exit, CPU of the process,
               winback's modules compiled to bytecode first as an installed package has them;
               with --profile the same command through benchmarks/refresh_process.py, which prints the time of
               every phase of that process (start-up, open, migrations check, each refresh step, COMMIT, close)
The warehouse size is taken after a CHECKPOINT before and after the incremental date (growth per extra date).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import refresh as base  # benchmarks/refresh.py: data generation, the GROUP BY phase, peak memory
import refresh_process  # benchmarks/refresh_process.py: the whole process, phase by phase
import whole_process as one_process  # benchmarks/whole_process.py: one command timed as a whole process

DAY = base.HISTORY_END  # the new orders' day; the full snapshot is at DAY, the incremental one at DAY + 1
NEXT = DAY + dt.timedelta(days=1)


def _connect(db: Path) -> Any:
    from winback.app import Winback
    from winback.config import Settings

    con = Winback(Settings(db_path=db)).db().con
    con.execute(f"SET memory_limit = '{base.MEMORY_LIMIT}'")
    return con


PROFILE: list[tuple[float, float, str]] = []  # --profile: (wall, CPU, statement) of every SQL the engine ran


def _profile_engine() -> None:
    """Time every statement the engine runs (Engine._guard wraps them all): the per-step breakdown of --profile."""
    import re

    from winback.engine.base import Engine

    guard = Engine._guard

    def timed(self: Any, sql: str, run: Any) -> Any:
        started, cpu = time.perf_counter(), base._cpu()
        try:
            return guard(self, sql, run)
        finally:
            PROFILE.append((time.perf_counter() - started, base._cpu() - cpu, re.sub(r"\s+", " ", sql).strip()))

    Engine._guard = timed  # type: ignore[method-assign]


def _profile_top(n: int = 14) -> list[list[Any]]:
    return [[round(w, 2), round(c, 2), sql[:160]] for w, c, sql in sorted(PROFILE, reverse=True)[:n] if w >= 0.05]


def _refresh(db: Path, as_of: dt.date, full: bool) -> dict[str, Any]:
    from winback.engine import DuckDBEngine
    from winback.lifecycle.refresh import refresh

    con = _connect(db)
    steps: list[tuple[str, float]] = []
    started, cpu = time.perf_counter(), base._cpu()
    wh = DuckDBEngine(con)
    result = refresh(wh, wh, as_of, full=full, progress=lambda msg: steps.append((msg, time.perf_counter())))
    timed = base._timed(started, cpu)
    marks = [*steps, ("end", time.perf_counter())]
    split = {marks[i][0]: round(marks[i + 1][1] - marks[i][1], 2) for i in range(len(marks) - 1)}
    con.execute("CHECKPOINT")
    con.close()
    out = {**timed, "members": result.members, "steps": split, "fit": result.fit, "facts": result.facts}
    return {**out, "profile": _profile_top()} if PROFILE else out


def phase_migrate(db: Path) -> dict[str, Any]:
    started = time.perf_counter()
    con = _connect(db)
    seconds = time.perf_counter() - started
    runs = con.execute("SELECT count(*) FROM snapshot_runs").fetchone()
    stored = con.execute("SELECT count(*) FROM member_snapshot_stored").fetchone()
    con.execute("CHECKPOINT")
    con.close()
    return {"seconds": seconds, "runs": runs[0] if runs else 0, "stored_rows": stored[0] if stored else 0}


def phase_full(db: Path) -> dict[str, Any]:
    return _refresh(db, DAY, True)


def phase_incremental(db: Path) -> dict[str, Any]:
    return _refresh(db, NEXT, False)


def phase_day(db: Path) -> dict[str, Any]:
    """~100k orders on DAY for ~90k members, imported through winback's importer from a CSV file."""
    from winback.engine import DuckDBEngine
    from winback.ingest import import_file

    con = _connect(db)
    ids = [r[0] for r in con.execute("SELECT member_id FROM members USING SAMPLE 90000 ROWS (reservoir, 7)").fetchall()]
    rng = np.random.default_rng(14)
    owners = np.concatenate([np.arange(len(ids)), rng.integers(0, len(ids), 100_000 - len(ids))])
    path = db.parent / "day.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["order_id", "member_id", "ordered_at", "amount", "status"])
        for i, owner in enumerate(owners):
            at = dt.datetime.combine(DAY, dt.time(9)) + dt.timedelta(seconds=int(rng.integers(0, 12 * 3600)))
            w.writerow([f"D{i:08d}", ids[int(owner)], at.isoformat(" "), f"{rng.gamma(2.0, 90.0):.2f}", "paid"])
    started = time.perf_counter()
    result = import_file(DuckDBEngine(con), "orders", path)
    seconds = time.perf_counter() - started
    con.execute("CHECKPOINT")
    con.close()
    return {"seconds": seconds, "rows_loaded": result.rows_loaded, "members": len(ids)}


def phase_size(db: Path) -> dict[str, Any]:
    from winback.warehouse import connect

    con = connect(db, read_only=True)
    tables = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
        for t in ("member_facts", "snapshot_predictions_xt", "snapshot_priors", "member_snapshot_stored")
    }
    con.close()
    return {"seconds": 0.0, "file_bytes": db.stat().st_size, "rows": tables}


def phase_growth(db: Path) -> dict[str, Any]:
    """What the extra date NEXT added, written alone into a scratch warehouse file (its fact rows, priors and
    predictions), next to one full copy of the same snapshot stored as rows (the member_snapshot table of
    migrations 006/011): the file size of each, after a CHECKPOINT."""
    import duckdb

    from winback.lifecycle.snapshot_sql import STORED_SNAPSHOT_COLUMNS

    sizes = {}
    day = f"DATE '{NEXT.isoformat()}'"
    parts = {
        "extra_date": [
            f"CREATE TABLE f AS SELECT * FROM src.member_facts WHERE valid_from = {day}",
            f"CREATE TABLE p AS SELECT * FROM src.snapshot_predictions_xt WHERE as_of = {day}",  # per (x, T): 018
            f"CREATE TABLE q AS SELECT * FROM src.snapshot_priors WHERE as_of = {day}",
        ],
        "full_copy": [
            f"CREATE TABLE s AS SELECT {', '.join(c for c in STORED_SNAPSHOT_COLUMNS)} FROM src.member_snapshot "
            f"WHERE as_of = {day}"
        ],
    }
    for name, statements in parts.items():
        path = db.parent / f"{name}.duckdb"
        path.unlink(missing_ok=True)
        con = duckdb.connect(str(path))
        con.execute(f"SET memory_limit = '{base.MEMORY_LIMIT}'")
        con.execute(f"ATTACH '{db}' AS src (READ_ONLY)")
        for sql in statements:
            con.execute(sql)
        con.execute("DETACH src")
        con.execute("CHECKPOINT")
        con.close()
        sizes[name] = path.stat().st_size
        path.unlink()
    return {"seconds": 0.0, **sizes, "share": round(sizes["extra_date"] / sizes["full_copy"], 4)}


def phase_history(db: Path) -> dict[str, Any]:
    """`refresh --history monthly` up to DAY on a warehouse with no facts yet (one snapshot per month start)."""
    from winback.engine import DuckDBEngine

    try:
        from winback.lifecycle.history import refresh_history
    except ImportError:  # a tree before the one-pass history (its lifecycle.refresh had it)
        from winback.lifecycle.refresh import refresh_history  # type: ignore[no-redef]

    con = _connect(db)
    started, cpu = time.perf_counter(), base._cpu()
    wh = DuckDBEngine(con)
    runs = refresh_history(wh, wh, DAY)
    timed = base._timed(started, cpu)
    modes = [r.facts["mode"] if r.facts else None for r in runs]
    con.close()
    return {**timed, "snapshots": len(runs), "incremental": modes.count("incremental")}


def whole_process(db: Path, profile: bool = False) -> dict[str, Any]:
    """The incremental refresh as a user runs it: `winback --db DB refresh --as-of NEXT --json` as its own process
    (started from this interpreter's venv), wall seconds from start to exit and the process's CPU seconds.
    `profile`: the same command through benchmarks/refresh_process.py, with the time of every phase of it."""

    args = ["--db", str(db), "refresh", "--as-of", NEXT.isoformat(), "--json"]
    if profile:
        res = refresh_process.run(args, db.with_suffix(".marks.json"))
        result = json.loads(res.pop("stdout"))
        return {**res, "refresh_seconds": result["seconds"], "facts": result.get("facts")}
    refresh_process.compile_bytecode()  # as an installed winback has it (not compiled from source every run)
    load = os.getloadavg()[0]
    done = one_process.run([str(Path(sys.executable).with_name("winback")), *args], os.environ)
    result = json.loads(done.stdout)
    return {
        "seconds": done.wall,
        "cpu_seconds": round(done.cpu, 2),
        "load_avg_1m": round(load, 2),
        "refresh_seconds": result["seconds"],  # the refresh's own time inside the process (RefreshResult.seconds)
        "facts": result.get("facts"),
        "fit": {k: v for k, v in (result.get("fit") or {}).items() if k != "as_of"},
        "peak_bytes": int(done.rss_mib * 2**20),
    }


PHASES = {
    "migrate": phase_migrate,
    "groupby": base.phase_groupby,
    "full": phase_full,
    "day": phase_day,
    "incremental": phase_incremental,
    "size": phase_size,
    "growth": phase_growth,
    "history": phase_history,
}


def _copy(source: Path, target: Path) -> None:
    """Copy the warehouse and write the copy to disk before a phase opens it: its gigabytes of dirty pages were
    otherwise written back under the phase's own fsyncs (a COMMIT's checkpoint waited 2.1 s wall for 0.8 s CPU)."""
    shutil.copyfile(source, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_phase(name: str, db: Path, profile: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--db", str(db)]
    cmd += ["--profile"] if profile else []
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _report(res: dict[str, Any]) -> None:
    """The daily run's ratios against the bare GROUP BY of the same run."""
    g1, g2 = res["groupby"]["seconds"], res["groupby_2"]["seconds"]
    full, inc = res["full"]["seconds"], res["incremental"]["seconds"]
    grown = res["growth"]
    print()
    cpu = {k: res[k]["cpu_seconds"] for k in ("groupby", "full", "groupby_2", "incremental")}
    print(f"full rebuild      {full:8.2f} s = {full / g1:5.2f} x the bare GROUP BY ({g1:.2f} s, same run); "
          f"CPU {cpu['full'] / cpu['groupby']:.2f} x")  # fmt: skip
    print(f"incremental       {inc:8.2f} s = {inc / g2:5.2f} x the bare GROUP BY ({g2:.2f} s, same run); "
          f"CPU {cpu['incremental'] / cpu['groupby_2']:.2f} x  (refresh() in the phase process)")  # fmt: skip
    user = res["winback"]
    print(f"winback refresh   {user['seconds']:8.2f} s = {user['seconds'] / g2:5.2f} x the bare GROUP BY; CPU "
          f"{user['cpu_seconds'] / cpu['groupby_2']:.2f} x  (the whole process as a user runs it; its refresh "
          f"{user['refresh_seconds']:.2f} s)")  # fmt: skip
    print(f"peak memory       full {base.gib(res['full']['peak_bytes'])}, incremental "
          f"{base.gib(res['incremental']['peak_bytes'])}")  # fmt: skip
    print(f"extra date        {grown['extra_date'] / 2**20:.1f} MiB stored, a full copy of that snapshot "
          f"{grown['full_copy'] / 2**20:.1f} MiB ({grown['share']:.1%})")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=10_000_000)
    ap.add_argument("--orders", type=int, default=100_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", type=Path, default=base.HERE / "data", help="where benchmarks/refresh.py keeps data")
    ap.add_argument("--work", type=Path, default=base.HERE / "data" / "daily", help="the copy that is written")
    ap.add_argument("--only-full", action="store_true", help="migrate, GROUP BY and the full rebuild only")
    ap.add_argument("--history", action="store_true", help="a full rebuild, then --history monthly on a fresh copy")
    ap.add_argument("--profile", action="store_true", help="per SQL statement, per phase of the winback process")
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.phase:
        if args.profile:
            _profile_engine()
        out = PHASES[args.phase](args.db)
        out["peak_bytes"] = base._peak_bytes()
        print(json.dumps(out, default=str))
        return 0
    source = base.prepare(args.members, args.orders, args.seed, args.data)
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.work / "warehouse.duckdb"
    _copy(source, db)
    print(f"daily benchmark: {args.members:,} members, ~{args.orders:,} orders; working copy {db}")
    print(f"page cache warmed: {base.warm_page_cache(db):.1f} s")
    res: dict[str, Any] = {}
    order = ("migrate", "groupby", "full", "size", "day", "groupby", "incremental", "winback", "size", "growth")
    user_copy = args.work / "winback-refresh.duckdb"  # the incremental refresh as a user runs it, on its own copy
    for name in order[:4] if args.only_full or args.history else order:
        key = name if name not in res else f"{name}_2"
        res[key] = whole_process(user_copy, args.profile) if name == "winback" else run_phase(name, db, args.profile)
        if name == "day":
            _copy(db, user_copy)
        if name == "winback":
            user_copy.unlink()
        ph = res[key]
        rest = {k: v for k, v in ph.items() if k not in ("seconds", "peak_bytes", "profile", "phases")}
        print(f"{key:<14}{ph['seconds']:>9.2f} s  peak {base.gib(ph['peak_bytes'])}  {json.dumps(rest, default=str)}")
        for wall, cpu_s, sql in ph.get("profile", []):
            print(f"    {wall:7.2f} s wall {cpu_s:7.2f} s CPU  {sql}")
        for step, wall, cpu_s in ph.get("phases", []):  # --profile: the whole process, phase by phase
            print(f"    {wall:7.3f} s wall {cpu_s:7.3f} s CPU  {step}")
    if args.history:
        _copy(source, db)
        run_phase("migrate", db)
        h = res["history"] = run_phase("history", db)
        print(f"history monthly   {h['seconds']:.2f} s, CPU {h['cpu_seconds']:.2f} s: {h['snapshots']} snapshots "
              f"({h['incremental']} incremental) = {h['cpu_seconds'] / res['full']['cpu_seconds']:.2f} x the full "
              f"rebuild's CPU ({h['seconds'] / res['full']['seconds']:.2f} x wall)")  # fmt: skip
    if args.only_full or args.history:
        g, full = res["groupby"], res["full"]
        print(f"full rebuild {full['seconds']:.2f} s = {full['seconds'] / g['seconds']:.2f} x the bare GROUP BY "
              f"({g['seconds']:.2f} s); CPU {full['cpu_seconds'] / g['cpu_seconds']:.2f} x")  # fmt: skip
        return 0
    _report(res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
