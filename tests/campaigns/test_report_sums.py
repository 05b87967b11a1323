"""The report sums each arm in SQL (store_report.arm_totals); its numbers equal those computed from every member's
outcome row (store_report.member_outcomes), overall and per breakdown group."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from winback.app import Winback
from winback.campaigns import store_report
from winback.campaigns.report import ArmTotals, build_report, group_rows
from winback.campaigns.store import get_campaign
from winback.campaigns.types import CampaignRequest as Req
from winback.demo.respond import parse_uplift, respond

T0 = dt.datetime(2026, 11, 2, 9, 0)


def same(a: Any, b: Any, path: str = "") -> None:
    """Equal, floats to 1e-9 relative (a sum in SQL and one in numpy may round the last bit differently)."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


@pytest.mark.parametrize("by", [None, "segment", "store", "guide"])
def test_sql_sums_give_the_report_of_the_member_rows(brand: Winback, by: str | None) -> None:
    brand.campaigns.create(
        Req("new_store_opening", holdout=0.3, variants=["A:voucher:50:200", "B:voucher:10:0"]), now=T0
    )
    brand.campaigns.launch("C0001", now=T0)
    respond(brand.db(), "C0001", uplift=parse_uplift("near_dormant=0.08,hibernating=0.05"), seed=11,
            now=T0 + dt.timedelta(days=14))  # fmt: skip
    now = T0 + dt.timedelta(days=20)
    new = brand.campaigns.report("C0001", by=by, now=now).to_dict()
    db = brand.db(write=False)
    rows = store_report.member_outcomes(db, "C0001")
    column = {"segment": "segment", "store": "store_id", "guide": "guide_id"}.get(by or "")
    old = build_report(get_campaign(db, "C0001"), group_rows(rows).get("", ({}, ArmTotals())), by=by,
                       groups=group_rows(rows, column) if column else None, alpha=0.05, now=now).to_dict()  # fmt: skip
    assert new["arms"]["A"]["members"] > 0 and new["arms"]["A"]["revenue"] > 0
    same(new, old)
