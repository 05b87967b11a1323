"""Which record of a cluster survives a merge (pure).

Rule, in order: the ERP record (source `erp`) over any other source; then the record with the most orders
(not cancelled); then the oldest registration (unknown dates count as newest); then the smallest member_id, so
the choice never depends on the order records arrive in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

ERP = "erp"


@dataclass(frozen=True)
class Candidate:
    member_id: str
    source: str | None
    orders: int
    register_date: dt.date | None


def survivor_key(c: Candidate) -> tuple[int, int, dt.date, str]:
    """Sort key: the smallest key survives."""
    return (
        0 if (c.source or "").lower() == ERP else 1,
        -c.orders,
        c.register_date or dt.date.max,
        c.member_id,
    )


def choose_survivor(cluster: Iterable[Candidate]) -> Candidate:
    members = list(cluster)
    if not members:
        raise ValueError("a cluster needs at least one record")
    return min(members, key=survivor_key)
