"""From clusters to the dedupe report: survivors, cluster sizes, and the sample worth a look (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from winback.common.masking import mask_phone
from winback.identity.survivor import Candidate, choose_survivor
from winback.identity.types import SampleCluster, SampleRecord

#: (cluster_id = the survivor's member_id, member_id, is_survivor)
ClusterRow = tuple[str, str, bool]


def cluster_rows(groups: list[list[str]], candidates: Mapping[str, Candidate]) -> list[ClusterRow]:
    """Every member of every group, with its group's survivor (`identity.survivor`)."""
    rows: list[ClusterRow] = []
    for g in groups:
        s = choose_survivor(candidates[m] for m in g).member_id
        rows.extend((s, m, m == s) for m in g)
    return rows


def cluster_sizes(groups: list[list[str]]) -> dict[str, int]:
    """Records in a cluster (as text, for JSON) -> how many clusters have that many, smallest first."""
    return {str(k): v for k, v in sorted(Counter(len(g) for g in groups).items())}


def sample_order(
    groups: list[list[str]], triples: list[tuple[str, str, float]], n: int
) -> list[tuple[list[str], list[float]]]:
    """`n` clusters, largest first and then the least certain (the ones worth a look), each with the
    probabilities of the stored pairs inside it (pairs below the threshold included)."""
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    inside: dict[int, list[float]] = {}
    for a, b, p in triples:
        i = group_of.get(a)
        if i is not None and i == group_of.get(b):
            inside.setdefault(i, []).append(p)
    order = sorted(range(len(groups)), key=lambda i: (-len(groups[i]), min(inside.get(i, [1.0])), groups[i][0]))
    return [(groups[i], inside.get(i, [])) for i in order[:n]]


def sample_clusters(
    chosen: list[tuple[list[str], list[float]]],
    rows: list[ClusterRow],
    info: Mapping[str, Mapping[str, Any]],
) -> list[SampleCluster]:
    """The chosen clusters with their records' display fields (`info`: member -> name, phone, source, store_id),
    phones masked, and the lowest and highest probability inside each."""
    survivor = {m: c for c, m, _ in rows}
    out = []
    for g, ps in chosen:
        out.append(
            SampleCluster(
                survivor=survivor[g[0]],
                min_probability=round(min(ps), 4) if ps else None,
                max_probability=round(max(ps), 4) if ps else None,
                records=[_record(m, info.get(m, {})) for m in g],
            )
        )
    return out


def _record(member_id: str, info: Mapping[str, Any]) -> SampleRecord:
    return SampleRecord(
        member_id=member_id,
        source=info.get("source"),
        name=info.get("name"),
        phone=mask_phone(info.get("phone")),
        store_id=info.get("store_id"),
    )
