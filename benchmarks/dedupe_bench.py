"""Identity resolution speed and accuracy at brand scale.

Plants duplicates into N ERP members (winback.identity.planted: guide WeChat copies and ERP re-registrations,
8 % of N), loads them into a fresh warehouse file, then times `dedupe` (features, seeded u sampling, EM, scoring
of the blocked pairs, clustering, storing), `--apply` and `--undo`, and prints precision and recall of the
clusters against the planted truth, and the process's peak memory.

    .venv/bin/python benchmarks/dedupe_bench.py [--members 200000] [--dir /tmp/winback-bench]

Target (issue 2, item 5): stays fast at 200k+ members thanks to blocking (pairs scored grow with duplicates,
not with members²); precision and recall ≥ 0.95.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import time
from collections import defaultdict
from pathlib import Path

from winback.engine.duckdb_engine import DuckDBEngine
from winback.identity import planted
from winback.identity.service import dedupe, undo
from winback.identity.store import insert_planted
from winback.warehouse import connect


def _pairs(groups: dict[str, set[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for ms in groups.values() for p in itertools.combinations(sorted(ms), 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=200_000, help="ERP members before duplicates are planted")
    ap.add_argument("--dir", default="/tmp/winback-bench")
    args = ap.parse_args()
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    db = out / f"dedupe-{args.members}.duckdb"
    db.unlink(missing_ok=True)

    t0 = time.perf_counter()
    data = planted.generate(args.members)
    con = connect(db)
    wh = DuckDBEngine(con)
    insert_planted(wh, data)
    t_load = time.perf_counter() - t0

    t0, c0 = time.perf_counter(), time.process_time()
    report = dedupe(wh).to_dict()
    t_dedupe, c_dedupe = time.perf_counter() - t0, time.process_time() - c0

    truth: dict[str, set[str]] = defaultdict(set)
    for dup, orig in data.duplicates:
        truth[orig] |= {dup, orig}
    found: dict[str, set[str]] = defaultdict(set)
    for cluster, member in wh.fetchall(
        "SELECT cluster_id, member_id FROM identity_clusters WHERE run_id = ?", [report["run_id"]]
    ):
        found[cluster].add(member)
    t_pairs, f_pairs = _pairs(truth), _pairs(found)
    hit = len(t_pairs & f_pairs)

    t0 = time.perf_counter()
    applied = dedupe(wh, apply=True).to_dict()["applied"]
    t_apply = time.perf_counter() - t0
    t0 = time.perf_counter()
    undo(wh)
    t_undo = time.perf_counter() - t0
    con.close()

    print(
        json.dumps(
            {
                "records": report["members"],
                "orders": len(data.orders),
                "planted_duplicates": len(data.duplicates),
                "pairs_scored": report["pairs_scored"],
                "clusters": report["clusters"],
                "precision": round(hit / max(len(f_pairs), 1), 4),
                "recall": round(hit / max(len(t_pairs), 1), 4),
                "training": report["training"],
                "seconds": {
                    "generate_and_load": round(t_load, 2),
                    "dedupe_report": round(t_dedupe, 2),
                    "dedupe_report_cpu (all threads; compare when the machine is busy)": round(c_dedupe, 2),
                    "dedupe_apply (incl. rerun)": round(t_apply, 2),
                    "undo": round(t_undo, 2),
                },
                "merged": applied,
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
