"""`winback quality` as a service: how usable the member data is, in total and per store, source or tier."""

from __future__ import annotations

from typing import Any

import duckdb

from winback.errors import InputError
from winback.quality import queries
from winback.quality.metrics import GROUPINGS, MEMBER_MEASURES, PROFILE_FIELDS, definitions, shape_group


def quality_report(con: duckdb.DuckDBPyConnection, by: str | None = None) -> dict[str, Any]:
    """Counts and shares of each data-quality measure (see `quality.metrics`).

    Returns {"by", "dedupe_run", "total": block, "groups": [{"key", **block}], "definitions"}; a block is
    {"members", "measures": {name: {count, share}}, "incomplete_fields": {field: {count, share}},
    "orders": {"orders", "without_member": {count, share}}}. `suspected_duplicate` counts are None until
    `winback dedupe` has run. Orders split only by store (they carry no source or tier)."""
    if by is not None and by not in GROUPINGS:
        raise InputError(
            f"cannot group the quality report by {by!r}",
            hint=f"Use --by with one of: {', '.join(GROUPINGS)} (or leave it out for the totals).",
        )
    run_id = queries.latest_dedupe_run(con)
    rows = queries.member_counts(con, by, run_id)
    orders = queries.order_counts(con, by)
    known = run_id is not None
    total_row = next(r for r in rows if r["grouped"] == 1)
    total = shape_group({**total_row, **_order_fields(orders["__total__"])}, duplicates_known=known)
    groups: list[dict[str, Any]] = []
    if by is not None:
        seen: set[str | None] = set()
        for r in rows:
            if r["grouped"] == 1:
                continue
            seen.add(r["key"])
            order_pair = orders.get(r["key"], (0, 0)) if by == "store" else (0, 0)
            block = shape_group({**r, **_order_fields(order_pair)}, duplicates_known=known)
            if by != "store":
                block["orders"] = None
            groups.append({"key": r["key"], **block})
        if by == "store":  # stores that have orders but no (live) members
            for key, pair in orders.items():
                if key == "__total__" or key in seen:
                    continue
                groups.append(
                    {"key": key, **shape_group({**_empty_row(), **_order_fields(pair)}, duplicates_known=known)}
                )
            groups.sort(key=lambda g: (g["key"] is None, g["key"] or ""))
    return {"by": by, "dedupe_run": run_id, "total": total, "groups": groups, "definitions": definitions()}


def headline(report: dict[str, Any]) -> dict[str, Any]:
    """The few figures the demo summary shows."""
    t = report["total"]
    return {
        "members": t["members"],
        **{k: t["measures"][k] for k in ("contactable", "invalid_phone", "missing_phone", "suspected_duplicate")},
        "orders_without_member": t["orders"]["without_member"],
    }


def _order_fields(pair: tuple[int, int]) -> dict[str, int]:
    return {"orders": pair[0], "orders_without_member": pair[1]}


def _empty_row() -> dict[str, int]:
    row = {"members": 0, **dict.fromkeys(MEMBER_MEASURES, 0)}
    row.update({f"missing_{f}": 0 for f in PROFILE_FIELDS})
    return row
