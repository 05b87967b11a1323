"""The quality figures computed independently of the service's SQL: polars over the raw rows."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

MEMBER_COLS = [
    "member_id", "name", "gender", "birthday", "phone", "phone_status", "register_date", "register_store",
    "store_id", "tier", "consent_sms", "consent_call", "opted_out_at", "source", "merged_into",
]  # fmt: skip


def expected(w: dict[str, Any], by: str | None, contacts: bool = False) -> dict[Any, dict[str, Any]]:
    """The same figures computed another way: polars over the raw rows. Members are unmerged records that are not
    guide-WeChat contacts (issue 9); `contacts` computes the figures over the contacts instead (no orders)."""
    types = {"birthday": pl.Date, "register_date": pl.Date, "opted_out_at": pl.Datetime, "consent_sms": pl.Boolean,
             "consent_call": pl.Boolean}  # fmt: skip
    m = pl.DataFrame(w["members"], schema={c: types.get(c, pl.String) for c in MEMBER_COLS})
    o = pl.DataFrame(w["orders"], schema={"order_id": pl.String, "member_id": pl.String, "store_id": pl.String,
                                          "status": pl.String})  # fmt: skip
    buyers = set(o.filter(pl.col("status") == "paid")["member_id"].drop_nulls().to_list())
    latest = w["runs"]
    dups = {c["member_id"] for c in w["clusters"] if c["run_id"] == latest and not c["is_survivor"]}
    blank = lambda c: pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")  # noqa: E731
    missing = {
        "name": blank("name"),
        "gender": pl.col("gender").is_null(),
        "birthday": pl.col("birthday").is_null(),
        "phone": pl.col("phone_status") == "missing",
        "store": pl.coalesce("store_id", "register_store").is_null(),
        "register_date": pl.col("register_date").is_null(),
        "tier": blank("tier"),
    }
    is_contact = pl.col("source") == "guide_wechat"
    live = m.filter(pl.col("merged_into").is_null() & (is_contact if contacts else ~is_contact)).with_columns(
        key=pl.coalesce("store_id", "register_store") if by == "store" else pl.col(by) if by else pl.lit(None),
        contactable=(pl.col("phone_status") == "mobile")
        & ((pl.col("consent_sms") == True) | (pl.col("consent_call") == True)).fill_null(False)  # noqa: E712
        & pl.col("opted_out_at").is_null(),
        dup=pl.col("member_id").is_in(list(dups)),
        never=~pl.col("member_id").is_in(list(buyers)),
        **{f"missing_{f}": e for f, e in missing.items()},
    )
    live = live.with_columns(incomplete=pl.any_horizontal(*[pl.col(f"missing_{f}") for f in missing]))
    known = set(m["member_id"].to_list())
    o = o.with_columns(orphan=pl.col("member_id").is_null() | ~pl.col("member_id").is_in(list(known)))
    out: dict[Any, dict[str, Any]] = {}
    frames = [("__total__", live)] + ([(k[0], g) for k, g in live.group_by("key", maintain_order=True)] if by else [])
    for key, g in frames:
        n = g.height
        ords = o if key == "__total__" else o.filter(pl.col("store_id").eq_missing(key)) if by == "store" else None
        ords = None if contacts else ords
        out[key] = {
            "members": n,
            "contactable": g["contactable"].sum(),
            "valid_mobile": (g["phone_status"] == "mobile").sum(),
            "invalid_phone": (g["phone_status"] == "invalid").sum(),
            "missing_phone": (g["phone_status"] == "missing").sum(),
            "landline": (g["phone_status"] == "landline").sum(),
            "incomplete_profile": g["incomplete"].sum(),
            "suspected_duplicate": g["dup"].sum() if latest else None,
            "never_purchased": g["never"].sum(),
            "fields": {f: g[f"missing_{f}"].sum() for f in missing},
            "orders": None if ords is None else (ords.height, ords["orphan"].sum()),
        }
    if by == "store":  # stores with orders and no live member
        for (key,), g in o.group_by("store_id"):
            if key not in out:
                out[key] = {"members": 0, "orders": (g.height, g["orphan"].sum())}
    return out


def check(block: dict[str, Any], exp: dict[str, Any]) -> None:
    n = exp["members"]
    assert block["members"] == n
    if exp["orders"] is not None:
        total, orphans = exp["orders"]
        assert block["orders"]["orders"] == total
        assert block["orders"]["without_member"] == {"count": orphans, "share": orphans / total if total else None}
    if n == 0:
        return
    for k, c in block["measures"].items():
        assert c["count"] == exp[k], k
        if c["count"] is not None:
            assert c["share"] == pytest.approx(exp[k] / n)
    for f, c in block["incomplete_fields"].items():
        assert c["count"] == exp["fields"][f], f
