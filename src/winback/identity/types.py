"""What `winback dedupe` returns (typed; `to_dict()` is the command's --json shape) and its defaults.

Light on purpose (no database, no splink): the CLI imports it at start-up for the option defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from winback.common.results import Result

DEFAULT_THRESHOLD = 0.9
DEFAULT_SEED = 20261123  # seed of the u sampling: the same data gives the same model and the same clusters
REPORT_FLOOR = 0.5  # pairs scored below this probability are not stored


@dataclass(frozen=True)
class Merge(Result):
    """One application of a dedupe run (or its undoing): member records merged, orders moved.

    `merge_id` is None when the application changed nothing and so was not recorded (nothing for `--undo`)."""

    merge_id: int | None
    run_id: int
    members: int
    orders: int


@dataclass(frozen=True)
class SampleRecord(Result):
    member_id: str
    source: str | None
    name: str | None
    phone: str | None  # masked (138****5678)
    store_id: str | None


@dataclass(frozen=True)
class SampleCluster(Result):
    """One cluster shown in the report, with the lowest and highest probability of the stored pairs inside it."""

    survivor: str
    min_probability: float | None
    max_probability: float | None
    records: list[SampleRecord]


@dataclass
class DedupeReport(Result):
    run_id: int
    threshold: float
    seed: int
    members: int
    pairs_scored: int
    clusters: int
    duplicates: int
    cluster_sizes: dict[str, int]  # records in a cluster (as text) -> how many clusters have that size
    seconds: float
    training: list[str]  # which training steps ran (prior, u, em:<rule>)
    sample: list[SampleCluster] = field(default_factory=list)
    applied: Merge | None = None


@dataclass(frozen=True)
class Undone(Result):
    undone: Merge
