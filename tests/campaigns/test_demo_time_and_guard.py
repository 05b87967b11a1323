"""`winback demo respond` writes nothing after the brand's now and continues later with the same draws; it (and
`winback demo` itself) refuses a warehouse that `winback demo` did not make, unless --force."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from winback.app import Winback
from winback.campaigns.types import CampaignRequest
from winback.cli.main import app
from winback.demo.respond import respond
from winback.errors import InputError

from .conftest import brand_app

T0 = dt.datetime(2026, 11, 2, 9, 0)


def _launched(path: Path) -> Winback:
    wb = brand_app(path, n=1500)
    wb.campaigns.create(CampaignRequest("new_store_opening", holdout=0.3, variants=["A:voucher:10:0"]), now=T0)
    wb.campaigns.launch("C0001", now=T0)
    return wb


def _sim_orders(wb: Winback) -> list[tuple[str, dt.datetime]]:
    return wb.db().fetchall("SELECT order_id, ordered_at FROM orders WHERE order_id LIKE 'SIM-%' ORDER BY 1")  # type: ignore[return-value]


def test_responses_stop_at_now_and_continue_with_the_same_draws(tmp_path: Path) -> None:
    whole = _launched(tmp_path / "whole.duckdb")
    once = respond(whole.db(), "C0001", seed=3, now=T0 + dt.timedelta(days=20)).to_dict()
    assert once["window_complete"] is True
    split = _launched(tmp_path / "split.duckdb")
    mid = T0 + dt.timedelta(days=6)
    first = respond(split.db(), "C0001", seed=3, now=mid).to_dict()
    assert first["window_complete"] is False and first["simulated_until"] == mid
    assert all(at <= mid for _, at in _sim_orders(split))  # before the change: up to 14 days in the future
    with pytest.raises(InputError, match="after the brand's now"):
        respond(split.db(), "C0001", now=mid, until=mid + dt.timedelta(hours=1), lang="en")
    with pytest.raises(InputError, match="晚于品牌当前时间"):
        respond(split.db(), "C0001", now=mid, until=mid + dt.timedelta(hours=1))
    with pytest.raises(InputError, match="already simulated"):
        respond(split.db(), "C0001", now=mid, lang="en")
    with pytest.raises(InputError, match="seed 3"):  # a later call continues the first one's draws
        respond(split.db(), "C0001", seed=4, now=mid + dt.timedelta(days=1), lang="en")
    respond(split.db(), "C0001", now=mid + dt.timedelta(days=2))
    last = respond(split.db(), "C0001", now=T0 + dt.timedelta(days=30)).to_dict()
    assert last["window_complete"] is True and last["truth"] == once["truth"]
    assert _sim_orders(split) == _sim_orders(whole)  # three steps write exactly what one call writes
    redeemed = "SELECT count(*), sum(discount) FROM coupons WHERE redeemed_at IS NOT NULL"
    assert split.db().fetchall(redeemed) == whole.db().fetchall(redeemed)
    whole.close()
    split.close()


def test_demo_respond_refuses_a_warehouse_not_made_by_the_demo(tmp_path: Path) -> None:
    db = tmp_path / "real.duckdb"
    _launched(db).close()
    env = {"WINBACK_NOW": (T0 + dt.timedelta(days=20)).isoformat()}
    runner = CliRunner()
    res = runner.invoke(app, ["--db", str(db), "--lang", "en", "demo", "respond", "C0001", "--json"], env=env)
    assert res.exit_code == 2, res.output  # before the change it wrote synthetic orders into any warehouse
    assert "not made by `winback demo`" in json.loads(res.stdout)["error"]["message"]
    zh = runner.invoke(app, ["--db", str(db), "demo", "respond", "C0001", "--json"], env=env)
    assert zh.exit_code == 2 and "不是 `winback demo` 创建的" in json.loads(zh.stdout)["error"]["message"]
    ok = runner.invoke(app, ["--db", str(db), "demo", "respond", "C0001", "--force", "--json"], env=env)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["orders"] > 0
