"""`winback dedupe` as a service: score, cluster, store, report; optionally merge; or undo the last merge."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import duckdb

from winback.common.masking import mask_phone
from winback.errors import InputError
from winback.identity import merge, store
from winback.identity.clusters import connected_components, pairs_at
from winback.identity.survivor import choose_survivor

DEFAULT_THRESHOLD = 0.9
DEFAULT_SEED = 20261123  # seed of the u sampling: the same data gives the same model and the same clusters
REPORT_FLOOR = 0.5  # pairs scored below this probability are not stored


def dedupe(
    con: duckdb.DuckDBPyConnection,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    apply: bool = False,
    seed: int = DEFAULT_SEED,
    sample: int = 5,
) -> dict[str, Any]:
    """Find records that are one person; store the run (pairs, clusters); merge them when `apply`."""
    if not REPORT_FLOOR <= threshold <= 1.0:
        raise InputError(
            f"--threshold must be a match probability between {REPORT_FLOOR} and 1, got {threshold}",
            hint="Try 0.9 (the default); lower finds more duplicates and more false ones.",
        )
    if sample < 0:
        raise InputError(f"--sample must be 0 or more clusters, got {sample}", hint="Try --sample 5.")
    started = time.perf_counter()
    from winback.identity.model import score_pairs  # splink is imported only when dedupe runs

    features = store.member_features(con)
    scored = score_pairs(features, seed=seed, floor=REPORT_FLOOR)
    pairs = scored.pairs
    triples = list(
        zip(
            pairs.column("member_id_l").to_pylist(),
            pairs.column("member_id_r").to_pylist(),
            pairs.column("match_probability").to_pylist(),
            strict=True,
        )
    )
    groups = connected_components(pairs_at(triples, threshold))
    cands = store.candidates(con, [m for g in groups for m in g])
    rows: list[tuple[str, str, bool]] = []
    for g in groups:
        s = choose_survivor(cands[m] for m in g).member_id
        rows.extend((s, m, m == s) for m in g)
    seconds = time.perf_counter() - started
    run_id = store.save_run(
        con,
        threshold=threshold,
        seed=seed,
        members=features.num_rows,
        pairs=pairs,
        clusters=rows,
        seconds=seconds,
        model=scored.model,
    )
    report: dict[str, Any] = {
        "run_id": run_id,
        "threshold": threshold,
        "seed": seed,
        "members": features.num_rows,
        "pairs_scored": pairs.num_rows,
        "clusters": len(groups),
        "duplicates": sum(len(g) - 1 for g in groups),
        "cluster_sizes": {str(k): v for k, v in sorted(Counter(len(g) for g in groups).items())},
        "seconds": round(seconds, 3),
        "training": scored.trained,
        "sample": _sample(con, groups, rows, triples, sample),
        "applied": None,
    }
    if apply:
        report["applied"] = merge.apply_run(con, run_id)
    return report


def undo(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Reverse the last `dedupe --apply`."""
    return {"undone": merge.undo_last(con)}


def _sample(
    con: duckdb.DuckDBPyConnection,
    groups: list[list[str]],
    rows: list[tuple[str, str, bool]],
    triples: list[tuple[str, str, float]],
    n: int,
) -> list[dict[str, Any]]:
    """`n` clusters, largest first and then the least certain (the ones worth a look), phones masked, with the
    lowest and highest probability of the stored pairs inside each (pairs below the threshold included)."""
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    inside: dict[int, list[float]] = {}
    for a, b, p in triples:
        i = group_of.get(a)
        if i is not None and i == group_of.get(b):
            inside.setdefault(i, []).append(p)
    order = sorted(range(len(groups)), key=lambda i: (-len(groups[i]), min(inside.get(i, [1.0])), groups[i][0]))
    chosen = [groups[i] for i in order[:n]]
    info = store.member_samples(con, [m for g in chosen for m in g])
    survivor = {m: c for c, m, _ in rows}
    out = []
    for i in order[:n]:
        g, ps = groups[i], inside.get(i, [])
        out.append(
            {
                "survivor": survivor[g[0]],
                "min_probability": round(min(ps), 4) if ps else None,
                "max_probability": round(max(ps), 4) if ps else None,
                "records": [
                    {
                        "member_id": m,
                        "source": info.get(m, {}).get("source"),
                        "name": info.get(m, {}).get("name"),
                        "phone": mask_phone(info.get(m, {}).get("phone")),
                        "store_id": info.get(m, {}).get("store_id"),
                    }
                    for m in g
                ],
            }
        )
    return out
