"""`winback quality` as a service: how usable the member data is, in total and per store, source or tier.

`QualityService(wb)` is what entry points use (`wb.quality.report(by="store")`); `quality_report(db, by)` takes
the warehouse for callers that hold one (the overview).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from winback.common.tiers import tier_order, tier_rank
from winback.errors import InputError
from winback.i18n import _
from winback.quality import queries
from winback.quality.metrics import GROUPINGS, MEMBER_MEASURES, PROFILE_FIELDS, definitions, shape_group
from winback.quality.types import QualityGroup, QualityReport

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.engine.duckdb_engine import DuckDBEngine


class QualityService:
    """Data-quality figures of the app's warehouse (read-only)."""

    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    def report(self, by: str | None = None) -> QualityReport:
        """Counts and shares of each data-quality measure, in total and per `by` (store, source or tier)."""
        result = quality_report(self.wb.db(write=False), by=by)
        result.db = str(self.wb.settings.db_path)
        return result


def check_grouping(by: str | None) -> None:
    if by is not None and by not in GROUPINGS:
        raise InputError(
            _("cannot group the quality report by {by!r}", by=by),
            hint=_(
                "Use --by with one of: {groupings} (or leave it out for the totals).", groupings=", ".join(GROUPINGS)
            ),
        )


def quality_report(db: DuckDBEngine, by: str | None = None) -> QualityReport:
    """Counts and shares of each data-quality measure (see `quality.metrics`).

    The total block and, with `by`, one group per store, source or tier; `suspected_duplicate` counts are None
    until `winback dedupe` has run. Orders split only by store (they carry no source or tier)."""
    check_grouping(by)
    run_id = queries.latest_dedupe_run(db)
    rows = queries.member_counts(db, by, run_id)
    orders = queries.order_counts(db, by)
    known = run_id is not None
    total_row = next(r for r in rows if r["grouped"] == 1)
    total = shape_group({**total_row, **_order_fields(orders["__total__"])}, duplicates_known=known)
    groups = _groups(rows, orders, by, known) if by is not None else []
    contact_row = queries.member_counts(db, None, run_id, contacts=True)[0]
    contacts = shape_group(contact_row, duplicates_known=known, with_orders=False)
    return QualityReport(
        by=by, dedupe_run=run_id, total=total, groups=groups, definitions=definitions(), contacts=contacts
    )


def _groups(
    rows: list[dict[str, Any]], orders: dict[str | None, tuple[int, int]], by: str, known: bool
) -> list[QualityGroup]:
    """One group per key of `by`; by store also the stores that have orders but no (live) members."""
    groups: list[QualityGroup] = []
    seen: set[str | None] = set()
    for r in rows:
        if r["grouped"] == 1:
            continue
        seen.add(r["key"])
        order_pair = orders.get(r["key"], (0, 0)) if by == "store" else (0, 0)
        block = shape_group({**r, **_order_fields(order_pair)}, duplicates_known=known, with_orders=by == "store")
        groups.append(QualityGroup(key=r["key"], block=block))
    if by == "store":
        for key, pair in orders.items():
            if key == "__total__" or key in seen:
                continue
            block = shape_group({**_empty_row(), **_order_fields(pair)}, duplicates_known=known)
            groups.append(QualityGroup(key=key, block=block))
        groups.sort(key=lambda g: (g.key is None, g.key or ""))
    if by == "tier":  # the brand's rank order, not Unicode order
        rank = tier_rank(tier_order(g.key for g in groups))
        groups.sort(key=lambda g: rank(g.key))
    return groups


def headline(report: QualityReport | Mapping[str, Any]) -> dict[str, Any]:
    """The few figures the demo summary and the overview show (a fresh dict the caller may extend)."""
    t = report.to_dict()["total"] if isinstance(report, QualityReport) else report["total"]
    c = report.to_dict().get("contacts") if isinstance(report, QualityReport) else report.get("contacts")
    return {
        "members": t["members"],
        "contacts": c["members"] if c else 0,
        **{k: t["measures"][k] for k in ("contactable", "invalid_phone", "missing_phone", "suspected_duplicate")},
        "orders_without_member": t["orders"]["without_member"],
    }


def _order_fields(pair: tuple[int, int]) -> dict[str, int]:
    return {"orders": pair[0], "orders_without_member": pair[1]}


def _empty_row() -> dict[str, int]:
    row = {"members": 0, **dict.fromkeys(MEMBER_MEASURES, 0)}
    row.update({f"missing_{f}": 0 for f in PROFILE_FIELDS})
    return row
