"""Refresh benchmark: the lifecycle refresh next to a bare DuckDB GROUP BY on the same warehouse tables.

    .venv/bin/python benchmarks/refresh.py                       # 10M members / 100M orders (generated once)
    .venv/bin/python benchmarks/refresh.py --members 100000 --orders 1000000

Data: a synthetic brand generated with vectorised numpy in chunks of members (bounded memory) and written to
Parquet under benchmarks/data/ (git-ignored), then loaded once into a DuckDB warehouse file next to it. Both
contenders read the same warehouse tables (`members`, `orders`) from that file: nothing is preloaded in memory.

Phases run one at a time, each in its own subprocess, so each peak memory (VmHWM of that process: Python,
DuckDB and numpy together) is honest and separate. The warehouse file is read once first so that every phase
finds it in the OS page cache (each phase still starts with DuckDB's own buffer pool empty):
  groupby   CREATE TEMP TABLE AS SELECT member_id, count(*), max(ordered_at), sum(amount) FROM orders GROUP BY 1
  refresh   winback.lifecycle.refresh.refresh(db, db) on a DuckDBEngine — the full snapshot, written into the warehouse
  fit       BG/NBD fit (and predictions) on the unique (x, t_x, T) triples of all members, timed alone
  spark     (with --spark) the same refresh on local Spark; the JVM's own peak memory is reported beside it
Targets (2 cores, 24 GiB): refresh ≤ 3 × groupby; peak memory ≤ 8 GiB; BG/NBD fit for 10M members ≤ 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
HISTORY_START = dt.date(2022, 1, 1)
HISTORY_END = dt.date(2025, 11, 1)  # orders before this day; as-of = HISTORY_END
CHUNK_MEMBERS = 500_000
N_STORES = 300
GUIDES_PER_STORE = 8
TIERS = np.array(["regular", "senior", "vip", "supreme"])
TIER_P = np.array([0.70, 0.20, 0.08, 0.02])
MEMORY_LIMIT = "6GB"  # DuckDB's buffer manager limit for both contenders (the process peak is measured anyway)


# -- data generation ---------------------------------------------------------------------------------------------


def _members_chunk(rng: np.random.Generator, lo: int, hi: int, scale: float) -> tuple[pa.Table, dict[str, Any]]:
    """Members lo..hi-1 with their hidden purchase behaviour (rate per day, alive window)."""
    n = hi - lo
    span = (HISTORY_END - HISTORY_START).days
    # registrations: a backlog before the history window plus steady growth inside it
    reg_offset = np.where(rng.random(n) < 0.35, -rng.integers(1, 1500, n), rng.integers(0, span, n))
    register = np.datetime64(HISTORY_START) + reg_offset.astype("timedelta64[D]")
    tier_idx = rng.choice(len(TIERS), size=n, p=TIER_P)
    store = rng.integers(0, N_STORES, n)
    guide = store * GUIDES_PER_STORE + rng.integers(0, GUIDES_PER_STORE, n)
    # heterogeneous purchase rates (gamma across members, higher tiers buy more), BG-like dropout
    rate = rng.gamma(0.6, 1.0, n) * (1.0 + tier_idx) * scale
    start = np.maximum(reg_offset, 0)
    life = rng.exponential(500.0, n) * np.where(rng.random(n) < 0.25, 0.1, 1.0)  # 25 % drop out fast
    end = np.minimum(start + life, span)
    never = rng.random(n) < 0.18  # never-purchased members
    alive_days = np.where(never, 0.0, np.maximum(end - start, 1.0))
    ids = np.char.add("M", np.char.zfill(np.arange(lo, hi).astype(str), 9))
    table = pa.table(
        {
            "member_id": pa.array(ids),
            "register_date": pa.array(register.astype("datetime64[D]"), pa.date32()),
            "register_channel": pa.array(np.where(rng.random(n) < 0.4, "online", "offline")),
            "store_id": pa.array(np.char.add("S", np.char.zfill(store.astype(str), 4))),
            "guide_id": pa.array(np.char.add("G", np.char.zfill(guide.astype(str), 5))),
            "tier": pa.array(TIERS[tier_idx]),
        }
    )
    return table, {"rate": rate, "start": start, "alive_days": alive_days, "store": store, "guide": guide}


def _orders_chunk(rng: np.random.Generator, ids: np.ndarray, hidden: dict[str, Any], first_order: int) -> pa.Table:
    counts = rng.poisson(hidden["rate"] * hidden["alive_days"])
    owner = np.repeat(np.arange(len(counts)), counts)
    total = int(owner.size)
    day = hidden["start"][owner] + rng.random(total) * hidden["alive_days"][owner]
    seconds = (day * 86400.0).astype(np.int64) // 86400 * 86400 + 9 * 3600 + rng.integers(0, 12 * 3600, total)
    ordered_at = np.datetime64(dt.datetime.combine(HISTORY_START, dt.time()), "s") + seconds.astype("timedelta64[s]")
    spend = hidden["spend"][owner] * np.exp(rng.normal(0.0, 0.5, total))
    status_draw = rng.random(total)
    status = np.where(status_draw < 0.015, "refunded", np.where(status_draw < 0.02, "cancelled", "paid"))
    cents = np.round(spend * 100).astype(np.int64)
    cents = np.where(status == "refunded", -cents, cents)
    order_ids = np.char.add("O", np.char.zfill(np.arange(first_order, first_order + total).astype(str), 10))
    return pa.table(
        {
            "order_id": pa.array(order_ids),
            "member_id": pa.array(ids[owner]),
            "store_id": pa.array(np.char.add("S", np.char.zfill(hidden["store"][owner].astype(str), 4))),
            "guide_id": pa.array(np.char.add("G", np.char.zfill(hidden["guide"][owner].astype(str), 5))),
            "channel": pa.array(np.where(rng.random(total) < 0.3, "online", "offline")),
            "ordered_at": pa.array(ordered_at.astype("datetime64[us]"), pa.timestamp("us")),
            "amount": cents_to_decimal(cents),
            "quantity": pa.array(rng.integers(1, 4, total).astype(np.int32)),
            "status": pa.array(status),
        }
    )


def cents_to_decimal(cents: np.ndarray) -> pa.Array:
    """int64 cents → DECIMAL(18, 2) with no Python loop: decimal128 stores the unscaled 128-bit integer."""
    words = np.empty((cents.size, 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)  # sign extension of the high word (little-endian two's complement)
    return pa.Array.from_buffers(pa.decimal128(18, 2), cents.size, [None, pa.py_buffer(words.tobytes())])


def generate(out: Path, members: int, orders: int, seed: int) -> dict[str, int]:
    """Write members/*.parquet and orders/*.parquet in chunks of members; returns the row counts."""
    (out / "members").mkdir(parents=True, exist_ok=True)
    (out / "orders").mkdir(parents=True, exist_ok=True)
    pilot_rng = np.random.default_rng(seed + 1)
    pilot_n = min(members, 200_000)
    _, pilot = _members_chunk(pilot_rng, 0, pilot_n, 1.0)
    scale = (orders / members) / float(np.mean(pilot["rate"] * pilot["alive_days"]))
    rng = np.random.default_rng(seed)
    written = 0
    for part, lo in enumerate(range(0, members, CHUNK_MEMBERS)):
        hi = min(lo + CHUNK_MEMBERS, members)
        table, hidden = _members_chunk(rng, lo, hi, scale)
        hidden["spend"] = np.exp(rng.normal(5.0, 0.6, hi - lo))
        pq.write_table(table, out / "members" / f"part-{part:04d}.parquet", compression="zstd")
        ids = table["member_id"].to_numpy(zero_copy_only=False)
        chunk = _orders_chunk(rng, ids, hidden, written)
        pq.write_table(chunk, out / "orders" / f"part-{part:04d}.parquet", compression="zstd", row_group_size=1 << 20)
        written += chunk.num_rows
        print(f"  generated members {hi:,} / {members:,}, orders {written:,}", file=sys.stderr, flush=True)
    return {"members": members, "orders": written}


def load_warehouse(data: Path, db: Path) -> None:
    """Load the Parquet files into a fresh warehouse file (the schema from winback's migrations)."""
    from winback.warehouse import connect

    tmp = db.with_suffix(".loading")
    tmp.unlink(missing_ok=True)
    con = connect(tmp)
    try:
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute(
            "INSERT INTO members (member_id, register_date, register_channel, register_store, store_id, guide_id, "
            "tier, phone_status, source) SELECT member_id, register_date, register_channel, store_id, store_id, "
            f"guide_id, tier, 'missing', 'erp' FROM read_parquet('{data / 'members' / '*.parquet'}')"
        )
        con.execute(
            "INSERT INTO orders (order_id, member_id, source_member_id, store_id, guide_id, channel, ordered_at, "
            "amount, quantity, status) SELECT order_id, member_id, member_id, store_id, guide_id, channel, "
            f"ordered_at, amount, quantity, status FROM read_parquet('{data / 'orders' / '*.parquet'}')"
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    tmp.rename(db)


def prepare(members: int, orders: int, seed: int, root: Path) -> Path:
    """Reuse or build benchmarks/data/m<members>_o<orders>_s<seed>/warehouse.duckdb."""
    data = root / f"m{members}_o{orders}_s{seed}"
    db = data / "warehouse.duckdb"
    done = data / "generated.json"
    if not done.exists():
        started = time.perf_counter()
        counts = generate(data, members, orders, seed)
        done.write_text(json.dumps({**counts, "seconds": round(time.perf_counter() - started, 1)}))
    if not db.exists():
        started = time.perf_counter()
        load_warehouse(data, db)
        print(f"  loaded the warehouse in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return db


# -- phases (each runs in its own subprocess) ----------------------------------------------------------------


def _peak_bytes(pid: int | None = None) -> int:
    """Peak resident memory of this process (or `pid`). VmHWM starts afresh at exec; ru_maxrss would carry the
    parent's peak across fork + exec, so it is only the fallback where /proc is missing."""
    try:
        for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux reports KiB


def _cpu() -> float:
    """CPU seconds of this process so far, every thread (user + system)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(started: float, cpu_started: float) -> dict[str, Any]:
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": round(_cpu() - cpu_started, 2),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def phase_groupby(db: Path) -> dict[str, Any]:
    from winback.warehouse import connect

    con = connect(db)
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    started, cpu = time.perf_counter(), _cpu()
    con.execute(
        "CREATE TEMP TABLE bare AS SELECT member_id, count(*) AS n, max(ordered_at) AS last_at, "
        "sum(amount) AS total FROM orders GROUP BY member_id"
    )
    rows = con.execute("SELECT count(*) FROM bare").fetchone()
    timed = _timed(started, cpu)
    con.close()
    return {**timed, "rows": int(rows[0]) if rows else 0}


def phase_refresh(db: Path) -> dict[str, Any]:
    from winback.engine import DuckDBEngine
    from winback.lifecycle.refresh import refresh
    from winback.warehouse import connect

    con = connect(db)
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    steps: list[tuple[str, float]] = []
    started, cpu = time.perf_counter(), _cpu()
    warehouse = DuckDBEngine(con)
    result = refresh(warehouse, warehouse, HISTORY_END, progress=lambda msg: steps.append((msg, time.perf_counter())))
    timed = _timed(started, cpu)
    marks = [*steps, ("end", time.perf_counter())]
    split = {marks[i][0]: round(marks[i + 1][1] - marks[i][1], 2) for i in range(len(marks) - 1)}
    con.close()
    return {**timed, "members": result.members, "steps": split, "segments": result.segments}


def phase_fit(db: Path) -> dict[str, Any]:
    """BG/NBD (the issue's target) and MBG/NBD (the refresh's default) on the same triples, each timed alone."""
    from winback.lifecycle.modelling import fit_purchase_model
    from winback.warehouse import connect

    con = connect(db, read_only=True)
    # the refresh's own sufficient statistics: exact day counts (issue 9), t_x = span, T = days to as-of − 1, sorted
    triples = con.execute(
        "SELECT CAST(purchase_days - 1 AS INTEGER) AS x, CAST(span_days AS INTEGER) AS t_x, "
        "CAST(first_purchase_days - 1 AS INTEGER) AS T, COUNT(*) AS n FROM member_snapshot "
        f"WHERE as_of = DATE '{HISTORY_END}' AND purchase_days >= 1 GROUP BY ALL ORDER BY x, t_x, T"
    ).to_arrow_table()
    con.close()
    started, cpu = time.perf_counter(), _cpu()
    preds = fit_purchase_model(triples, "bg_nbd")
    timed = _timed(started, cpu)
    mbg_started = time.perf_counter()
    mbg = fit_purchase_model(triples, "mbg_nbd")
    mbg_seconds = time.perf_counter() - mbg_started
    fit = preds.fit.to_dict() if preds.fit else None
    members = int(pc.sum(triples["n"]).as_py() or 0)
    return {
        **timed,
        "members": members,
        "triples": triples.num_rows,
        "fit": fit,
        "notes": preds.notes,
        "mbg_nbd_seconds": mbg_seconds,
        "mbg_nbd_fit": mbg.fit.to_dict() if mbg.fit else None,
    }


def phase_spark(db: Path) -> dict[str, Any]:
    """The same refresh on local Spark (warehouse tables exported to Parquet first, as the CLI does)."""
    from winback.engine import DuckDBEngine
    from winback.engine.spark import SparkOptions, spark_engine_for_warehouse
    from winback.lifecycle.refresh import refresh
    from winback.warehouse import connect

    con = connect(db)
    warehouse = DuckDBEngine(con)
    started = time.perf_counter()
    engine = spark_engine_for_warehouse(warehouse, options=SparkOptions(master="local[2]", driver_memory="6g"))
    ready = time.perf_counter()
    try:
        result = refresh(engine, warehouse, HISTORY_END)
        seconds = time.perf_counter() - started
        gateway = getattr(engine.session.sparkContext, "_gateway", None)
        proc = getattr(gateway, "proc", None)
        jvm_peak = _peak_bytes(proc.pid) if proc is not None else 0
    finally:
        engine.close()
        con.close()
    return {
        "seconds": seconds,
        "startup_and_export": ready - started,
        "members": result.members,
        "segments": result.segments,
        "jvm_peak_bytes": jvm_peak,
    }


PHASES = {"groupby": phase_groupby, "refresh": phase_refresh, "fit": phase_fit, "spark": phase_spark}


def warm_page_cache(db: Path) -> float:
    """Read the warehouse file once so every phase finds it in the OS page cache (seconds taken). Without this the
    first phase pays for the disk reads: on this machine a cold read of the 4.9 GiB file takes ~6 s, which once
    made the bare GROUP BY look 3x slower than it is."""
    started = time.perf_counter()
    with db.open("rb") as fh:
        while fh.read(1 << 26):
            pass
    return time.perf_counter() - started


def run_phase(name: str, db: Path) -> dict[str, Any]:
    """Run one phase in a fresh interpreter and read its JSON line (its own peak memory included)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--db", str(db)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda x: x["seconds"])
    return ordered[(len(ordered) - 1) // 2]


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=10_000_000)
    ap.add_argument("--orders", type=int, default=100_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data", type=Path, default=HERE / "data", help="where generated data is kept (git-ignored)")
    ap.add_argument("--spark", action="store_true", help="also run the refresh on local Spark (slow; small data)")
    ap.add_argument("--prepare-only", action="store_true", help="generate and load the data, run nothing")
    ap.add_argument(
        "--repeat", type=int, default=1, help="rounds of GROUP BY + refresh, interleaved; the medians are reported"
    )
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.phase:
        out = PHASES[args.phase](args.db)
        out["peak_bytes"] = _peak_bytes()
        print(json.dumps(out, default=str))
        return 0

    print(f"refresh benchmark: {args.members:,} members, ~{args.orders:,} orders, {os.cpu_count()} cores")
    db = prepare(args.members, args.orders, args.seed, args.data)
    if args.prepare_only:
        return 0
    counts = json.loads((db.parent / "generated.json").read_text())
    print(f"data: {db} ({counts['members']:,} members, {counts['orders']:,} orders; both contenders read these tables)")
    phases = ("groupby", "refresh", "fit", "spark") if args.spark else ("groupby", "refresh", "fit")
    print(f"page cache warmed: read {db.stat().st_size / 2**30:.2f} GiB in {warm_page_cache(db):.1f} s")
    rounds: dict[str, list[dict[str, Any]]] = {"groupby": [], "refresh": []}
    for _ in range(max(args.repeat, 1)):
        for name in rounds:
            rounds[name].append(run_phase(name, db))
    results = {name: median_run(runs) for name, runs in rounds.items()}
    results.update({name: run_phase(name, db) for name in phases if name not in rounds})
    g, r, f = results["groupby"], results["refresh"], results["fit"]
    if args.repeat > 1:
        for name, runs in rounds.items():
            secs = sorted(x["seconds"] for x in runs)
            print(f"{name}: {len(runs)} rounds, {' '.join(f'{x:.2f}' for x in secs)} s; the median round is shown")
        pairs = [a["seconds"] / b["seconds"] for a, b in zip(rounds["refresh"], rounds["groupby"], strict=True)]
        print(f"refresh / GROUP BY per round: {' '.join(f'{x:.1f}x' for x in pairs)}")
    ratio = r["seconds"] / g["seconds"]
    cpu_ratio = r["cpu_seconds"] / max(g["cpu_seconds"], 1e-9)
    print()
    print(f"{'phase':<34}{'seconds':>10}{'CPU s':>10}{'load 1m':>9}{'peak memory':>14}")
    for label, ph in (
        ("bare GROUP BY (count,max,sum)", g),
        ("refresh (DuckDB engine)", r),
        ("BG/NBD fit on unique triples", f),
    ):
        print(
            f"{label:<34}{ph['seconds']:>10.2f}{ph['cpu_seconds']:>10.2f}{ph['load_avg_1m']:>9.2f}"
            f"{gib(ph['peak_bytes']):>14}"
        )
    print(f"{'MBG/NBD fit (refresh default)':<34}{f['mbg_nbd_seconds']:>10.2f}")
    if "spark" in results:
        sp = results["spark"]
        same = "same segment counts" if sp["segments"] == r["segments"] else "DIFFERENT segment counts"
        print(
            f"{'refresh (Spark local[2])':<34}{sp['seconds']:>10.2f}{gib(sp['peak_bytes']):>14}"
            f"  + JVM {gib(sp['jvm_peak_bytes'])}; {sp['startup_and_export']:.1f} s start + export; {same}"
        )
    print()
    print("refresh steps (s):", ", ".join(f"{k}: {v}" for k, v in r["steps"].items()))
    print(f"BG/NBD: {f['members']:,} members as {f['triples']:,} unique (x, t_x, T); fit {f['fit']}")
    peak = max(g["peak_bytes"], r["peak_bytes"], f["peak_bytes"])
    print()
    print(
        f"refresh / GROUP BY = {ratio:.2f}x (target <= 3x): {'OK' if ratio <= 3 else 'MISSED'}"
        f"; in CPU time {cpu_ratio:.2f}x"
    )
    print(f"peak memory = {gib(peak)} (target <= 8 GiB): {'OK' if peak <= 8 * 2**30 else 'MISSED'}")
    print(f"BG/NBD fit = {f['seconds']:.2f} s (target <= 2 s): {'OK' if f['seconds'] <= 2 else 'MISSED'}")
    print(json.dumps({"members": counts["members"], "orders": counts["orders"], **results}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
