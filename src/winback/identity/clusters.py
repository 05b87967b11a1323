"""Clusters of records that are one person: connected components of pairs at or above a threshold (pure)."""

from __future__ import annotations

from collections.abc import Iterable


def connected_components(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Groups of two or more ids joined by edges; each group sorted, groups sorted by their first id."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for a, b in edges:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra
    groups: dict[str, list[str]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def pairs_at(pairs: Iterable[tuple[str, str, float]], threshold: float) -> list[tuple[str, str]]:
    """The edges (left, right) whose match probability is at or above `threshold`."""
    return [(a, b) for a, b, p in pairs if p >= threshold]
