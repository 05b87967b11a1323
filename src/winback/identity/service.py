"""`winback dedupe` as a service: score, cluster, store, report; optionally merge; or undo the last merge.

`IdentityService(wb)` is what entry points use (`wb.identity.dedupe()`); the functions below take the warehouse
(`DuckDBEngine`) for callers that hold one.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pyarrow as pa

from winback.errors import InputError, NotFoundError
from winback.i18n import _
from winback.identity import report, store, store_merge
from winback.identity.clusters import connected_components, pairs_at
from winback.identity.types import DEFAULT_SEED, DEFAULT_THRESHOLD, REPORT_FLOOR, DedupeReport, Merge, Undone

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.engine.duckdb_engine import DuckDBEngine

__all__ = ["DEFAULT_SEED", "DEFAULT_THRESHOLD", "REPORT_FLOOR", "IdentityService", "apply", "dedupe", "undo"]


class IdentityService:
    """Identity resolution on the app's warehouse (opened read-write: every call stores or changes rows)."""

    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    def dedupe(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        apply: bool = False,
        seed: int = DEFAULT_SEED,
        sample: int = 5,
    ) -> DedupeReport:
        """Find records that are one person; store the run (pairs, clusters); merge them when `apply`."""
        return dedupe(self.wb.db(), threshold=threshold, apply=apply, seed=seed, sample=sample)

    def apply(self, run_id: int | None = None) -> Merge:
        """Merge the clusters of a stored run (default: the latest)."""
        return apply(self.wb.db(), run_id)

    def undo(self) -> Undone:
        """Reverse the last merge exactly."""
        return undo(self.wb.db())


def check_options(threshold: float, sample: int) -> None:
    if not REPORT_FLOOR <= threshold <= 1.0:
        raise InputError(
            _(
                ("--threshold must be a match probability between {report_floor} and 1, got {threshold}"),
                report_floor=REPORT_FLOOR,
                threshold=threshold,
            ),
            hint=_("Try 0.9 (the default); lower finds more duplicates and more false ones."),
        )
    if sample < 0:
        raise InputError(
            _("--sample must be 0 or more clusters, got {sample}", sample=sample), hint=_("Try --sample 5.")
        )


def dedupe(
    db: DuckDBEngine,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    apply: bool = False,
    seed: int = DEFAULT_SEED,
    sample: int = 5,
) -> DedupeReport:
    """Find records that are one person; store the run (pairs, clusters); merge them when `apply`."""
    check_options(threshold, sample)
    started = time.perf_counter()
    from winback.identity.model import score_pairs  # splink is imported only when dedupe runs

    features = store.member_features(db)
    scored = score_pairs(features, seed=seed, floor=REPORT_FLOOR)
    triples = _triples(scored.pairs)
    groups = connected_components(pairs_at(triples, threshold))
    rows = report.cluster_rows(groups, store.candidates(db, [m for g in groups for m in g]))
    seconds = time.perf_counter() - started
    run_id = store.save_run(
        db,
        threshold=threshold,
        seed=seed,
        members=features.num_rows,
        pairs=scored.pairs,
        clusters=rows,
        seconds=seconds,
        model=scored.model,
    )
    chosen = report.sample_order(groups, triples, sample)
    info = store.member_samples(db, [m for g, _ in chosen for m in g])
    result = DedupeReport(
        run_id=run_id,
        threshold=threshold,
        seed=seed,
        members=features.num_rows,
        pairs_scored=scored.pairs.num_rows,
        clusters=len(groups),
        duplicates=sum(len(g) - 1 for g in groups),
        cluster_sizes=report.cluster_sizes(groups),
        seconds=round(seconds, 3),
        training=scored.trained,
        sample=report.sample_clusters(chosen, rows, info),
    )
    if apply:
        result.applied = store_merge.apply_run(db, run_id)
    return result


def apply(db: DuckDBEngine, run_id: int | None = None) -> Merge:
    """Merge the clusters of the stored run `run_id` (default: the latest)."""
    run = run_id if run_id is not None else store.latest_run_id(db)
    if run is None:
        raise NotFoundError(
            _("there is no dedupe run to apply"),
            hint=_("Run `winback dedupe` first."),
        )
    return store_merge.apply_run(db, run)


def undo(db: DuckDBEngine) -> Undone:
    """Reverse the last `dedupe --apply`."""
    return Undone(undone=store_merge.undo_last(db))


def _triples(pairs: pa.Table) -> list[tuple[str, str, float]]:
    return list(
        zip(
            pairs.column("member_id_l").to_pylist(),
            pairs.column("member_id_r").to_pylist(),
            pairs.column("match_probability").to_pylist(),
            strict=True,
        )
    )
