"""create → launch → respond → report on a synthetic brand in a real warehouse file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from winback.app import Winback
from winback.campaigns.types import CampaignRequest as Req
from winback.config import Settings
from winback.demo.respond import parse_uplift, respond
from winback.errors import InputError, NotFoundError

from .conftest import brand_app
from .conftest import count as _count

T0 = dt.datetime(2026, 11, 2, 9, 0)


def test_preview_explains_exclusions_and_expectations(tmp_path: Path) -> None:
    brand = brand_app(tmp_path / "brand.duckdb", lang="en")
    d = brand.campaigns.create(Req("new_store_opening", holdout=0.2), now=T0).to_dict()
    p = d["preview"]
    target = (
        "SELECT count(*) FROM member_segments g JOIN members m USING (member_id) WHERE g.segment IN "
        "('near_dormant', 'hibernating')"
    )
    assert p["matched"] == _count(brand, target)
    excluded = {e["reason"]: e["members"] for e in p["excluded"]}
    assert excluded["opted_out"] == _count(brand, target + " AND m.opted_out_at IS NOT NULL")
    assert excluded["no_consent"] == _count(brand, target + " AND m.opted_out_at IS NULL AND NOT m.consent_call")
    assert p["audience"]["members"] == p["matched"] - sum(excluded.values())
    assert {r["segment"] for r in p["audience"]["by_segment"]} == {"near_dormant", "hibernating"}
    assert sum(r["members"] for r in p["audience"]["by_store"]) == p["audience"]["members"]
    e = p["expected"]
    assert e["rate_sources"] == ["seed default"]
    assert e["contact_cost"] == pytest.approx(p["audience"]["members"] * 0.8 * 1.5)
    # the cost the report will count: contacts plus the coupons' expected discounts (the scenario's voucher)
    assert e["expected_discounts"] > 0 and e["cost"] == pytest.approx(e["contact_cost"] + e["expected_discounts"])
    assert e["redemption_rate_source"] == e["sources"]["redemption"] == "seed default"
    (arm,) = e["by_arm"]
    assert arm["expected_redemptions"] == pytest.approx(arm["expected_responders"] * e["redemption_rate"])
    assert arm["cost"] == pytest.approx(e["cost"])
    h = p["holdout_sizing"]
    assert h["mde_rate"] is not None and 0 < h["mde_rate"] < 0.1
    mdes = [a["mde_rate"] for a in h["alternatives"]]  # holdout 5 % … 50 %: a bigger control detects less
    assert mdes == sorted(mdes, reverse=True)
    assert d["campaign"]["status"] == "draft" and d["campaign"]["campaign_id"] == "C0001"
    assert p["excluded"][0]["explain"] == "opted out of all marketing"  # the app's language
    brand.close()


@pytest.mark.usefixtures("english")
def test_launch_freezes_assigns_and_queues(brand: Winback) -> None:
    variants = ["A:voucher:50:200", "B:discount:15"]
    brand.campaigns.create(Req("new_store_opening", holdout=0.2, variants=variants), now=T0)
    out = brand.campaigns.launch("C0001", now=T0).to_dict()
    arms = out["arms"]
    n = out["members"]
    assert sum(arms.values()) == n
    assert abs(arms["control"] - 0.2 * n) <= 1 and abs(arms["A"] - arms["B"]) <= 1
    treated = n - arms["control"]
    assert out["coupons"] == out["tasks"] == out["touches"] == treated
    assert all(b["chi2_p_value"] > 0.9 for b in out["balance"])
    assert _count(brand, "SELECT count(DISTINCT idempotency_key) FROM touches") == treated
    assert _count(brand, "SELECT count(*) FROM tasks WHERE script LIKE '%券码%'") == treated
    assert (
        _count(
            brand,
            "SELECT count(*) FROM coupons c JOIN campaign_members m USING (campaign_id, member_id) "
            "WHERE m.arm = 'control'",
        )
        == 0
    )
    with pytest.raises(InputError, match="only a draft can be launched"):
        brand.campaigns.launch("C0001", now=T0)
    # a second campaign the next day: touched members hit the frequency cap, the control is held out
    d2 = brand.campaigns.create(Req("drive_to_store"), now=T0 + dt.timedelta(days=1)).to_dict()
    ex = {e["reason"]: e["members"] for e in d2["preview"]["excluded"]}
    assert ex["frequency_cap"] > 0.5 * treated
    assert ex["held_out_elsewhere"] > 0.5 * arms["control"]
    assert d2["preview"]["audience"]["members"] + sum(ex.values()) == d2["preview"]["matched"]
    assert [c["status"] for c in brand.campaigns.list().to_dict()["campaigns"]] == ["running", "draft"]
    shown = brand.campaigns.show("C0001").to_dict()
    assert shown["arms"] == arms and shown["coupons"] == treated
    brand.campaigns.close("C0001", now=T0 + dt.timedelta(days=30))
    assert _count(brand, "SELECT count(*) FROM tasks WHERE status = 'open'") == 0
    with pytest.raises(NotFoundError, match="no campaign 'C9999'"):
        brand.campaigns.show("C9999")


def test_the_frequency_cap_counts_touches_in_every_contacting_state(tmp_path: Path) -> None:
    """A touch the dispatcher moved on (sending, sent, delivered) still counts for the cap, like a queued one."""
    wb = brand_app(tmp_path / "cap.duckdb", n=1500)
    wb.campaigns.create(Req("new_store_opening", holdout=0.2), now=T0)
    wb.campaigns.launch("C0001", now=T0)
    touched = wb.db().scalar("SELECT count(DISTINCT member_id) FROM touches")
    assert touched > 0
    for status in ("sending", "sent", "delivered"):
        wb.db().execute("UPDATE touches SET status = ?", [status])
        d2 = wb.campaigns.create(Req("drive_to_store"), now=T0 + dt.timedelta(days=1)).to_dict()
        ex = {e["reason"]: e["members"] for e in d2["preview"]["excluded"]}
        assert ex.get("frequency_cap", 0) > 0.5 * touched, status
        wb.campaigns.close(d2["campaign"]["campaign_id"], now=T0 + dt.timedelta(days=1))


def test_same_launch_twice_assigns_the_same_arms(tmp_path: Path) -> None:
    frozen = []
    for name in ("one", "two"):
        wb = brand_app(tmp_path / f"{name}.duckdb", n=1500)
        wb.campaigns.create(Req("season_change", holdout=0.1, variants=["A", "B"]), now=T0)
        wb.campaigns.launch("C0001", now=T0)
        frozen.append(wb.db().fetchall("SELECT member_id, arm FROM campaign_members ORDER BY member_id"))
        wb.close()
    assert frozen[0] == frozen[1] and len(frozen[0]) > 300


@pytest.mark.usefixtures("english")
def test_end_to_end_report_covers_the_true_uplift(brand: Winback) -> None:
    brand.campaigns.create(
        Req("new_store_opening", holdout=0.3, variants=["A:voucher:50:200", "B:voucher:10:0"]), now=T0
    )
    brand.campaigns.launch("C0001", now=T0)
    uplift = parse_uplift("near_dormant=0.08,hibernating=0.05")
    sim = respond(brand.db(), "C0001", uplift=uplift, seed=11, now=T0 + dt.timedelta(days=14)).to_dict()
    assert sim["orders"] > 50 and sim["redeemed"] > 0
    rep = brand.campaigns.report("C0001", by="segment", now=T0 + dt.timedelta(days=20)).to_dict()
    assert rep["window_complete"] is True
    truth = json.loads(brand.db().scalar("SELECT true_incremental FROM campaign_truth"))
    for arm in ("A", "B"):
        v = rep["versus_control"][arm]
        lo, hi = v["incremental_revenue_ci"]
        assert lo <= truth[arm]["incremental_revenue"] <= hi, (arm, lo, hi, truth[arm])
        lo, hi = v["incremental_responders_ci"]
        assert lo <= truth[arm]["incremental_responders"] <= hi
        assert v["cost"] > rep["arms"][arm]["members"] * 1.5 - 1e-9  # contacts + redeemed discounts
    assert rep["arms"]["control"]["contacted"] == 0 and rep["arms"]["A"]["contacted"] > 0
    assert rep["arms"]["A"]["redeemed"] == _count(
        brand, "SELECT count(*) FROM coupons WHERE variant_key = 'A' AND redeemed_at IS NOT NULL"
    )
    assert "Holm" in rep["winner"]["rule"] and len(rep["winner"]["pairs"]) == 1
    groups = {g["segment"]: g for g in rep["by"]["groups"]}
    assert set(groups) == {"near_dormant", "hibernating"}
    assert sum(g["arms"]["A"]["members"] for g in groups.values()) == rep["arms"]["A"]["members"]
    with pytest.raises(InputError, match="already simulated"):
        respond(brand.db(), "C0001", now=T0 + dt.timedelta(days=15), lang="en")
    # the next campaign plans with this brand's measured rates instead of the seed defaults
    nxt = brand.campaigns.create(Req("drive_to_store"), now=T0 + dt.timedelta(days=40)).to_dict()["preview"]["expected"]
    assert nxt["rate_sources"] == ["history C0001"]
    assert nxt["redemption_rate_source"] == "history C0001" and 0 < nxt["redemption_rate"] <= 1
    measured = {r["segment"]: r for r in nxt["by_segment"]}
    ctrl = rep["arms"]["control"]
    assert sum(r["baseline_rate"] for r in measured.values()) > 0
    assert ctrl["responders"] > 0


@pytest.mark.usefixtures("english")
def test_report_refuses_a_draft_and_bad_breakdown(brand: Winback) -> None:
    brand.campaigns.create(Req("big_sale"), now=T0)
    with pytest.raises(InputError, match="draft"):
        brand.campaigns.report("C0001")
    brand.campaigns.launch("C0001", now=T0)
    with pytest.raises(InputError, match="--by store, guide or segment"):
        brand.campaigns.report("C0001", by="city")


@pytest.mark.usefixtures("english")
def test_create_rejects_bad_options(brand: Winback) -> None:
    create = brand.campaigns.create
    with pytest.raises(NotFoundError, match="no scenario 'nope'"):
        create(Req("nope"))
    with pytest.raises(InputError, match="holdout"):
        create(Req("big_sale", holdout=0.0))
    with pytest.raises(InputError, match="window"):
        create(Req("big_sale", window="two weeks"))
    with pytest.raises(InputError, match="offer kind 'cash'"):
        create(Req("big_sale", variants=["A:cash:5"]))
    with pytest.raises(InputError, match="unknown store"):
        create(Req("big_sale", stores=["S99"]))


@pytest.mark.usefixtures("english")
def test_create_without_a_snapshot_says_what_to_do(db_path: Path) -> None:
    with Winback(Settings(db_path=db_path)) as wb, pytest.raises(InputError, match="no member snapshot yet") as info:
        wb.campaigns.create(Req("big_sale"))
    assert "winback refresh" in str(info.value)


@pytest.mark.parametrize("table", ["touches", "tasks"])
def test_a_key_already_in_the_ledger_fails_the_launch_whole(tmp_path: Path, table: str) -> None:
    """The launch looks for existing keys among its own campaign's rows only; a touch key (or task id) that is
    somehow already there under another campaign is refused by the primary key: the launch fails and leaves
    nothing, the draft stays a draft, and the member never gets a second touch with that key."""
    from winback.errors import EngineError

    first = brand_app(tmp_path / "first.duckdb", n=1500)  # the same brand launched once: who gets a touch
    first.campaigns.create(Req("new_store_opening", holdout=0.2), now=T0)
    first.campaigns.launch("C0001", now=T0)
    member = first.db().scalar("SELECT min(member_id) FROM touches")
    first.close()
    wb = brand_app(tmp_path / "clash.duckdb", n=1500)
    wb.campaigns.create(Req("new_store_opening", holdout=0.2), now=T0)
    if table == "touches":
        wb.db().execute(
            "INSERT INTO touches (idempotency_key, campaign_id, member_id, channel, status, queued_at) "
            "VALUES (?, NULL, ?, 'guide_task', 'sent', ?)",  # long ago: not within the frequency cap
            [f"C0001:{member}:guide_task:1", member, T0 - dt.timedelta(days=400)],
        )
    else:
        wb.db().execute(
            "INSERT INTO tasks (task_id, campaign_id, member_id, kind, status, created_at) "
            "VALUES (?, 'C0000', ?, 'call', 'done', ?)",
            [f"C0001:{member}", member, T0],
        )
    with pytest.raises(EngineError):
        wb.campaigns.launch("C0001", now=T0)
    assert wb.campaigns.show("C0001").to_dict()["campaign"]["status"] == "draft"
    for t in ("campaign_members", "coupons"):
        assert _count(wb, f"SELECT count(*) FROM {t}") == 0, t
    assert _count(wb, "SELECT count(*) FROM touches") == (1 if table == "touches" else 0)
    assert _count(wb, "SELECT count(*) FROM tasks") == (1 if table == "tasks" else 0)
