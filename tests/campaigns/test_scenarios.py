"""Scenario playbooks: the shipped file is complete and consistent; a brand's own file replaces it; errors are clear."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from winback.app import Winback
from winback.campaigns.scenarios import CHANNELS, OFFER_KINDS, Offer, load_playbook, parse_playbook
from winback.config import Settings
from winback.errors import ConfigError, InputError, NotFoundError

SEED_CN = {"active", "silent", "near_dormant", "hibernating", "lost", "never_purchased"}


def test_shipped_playbook_is_complete() -> None:
    pb = load_playbook()
    assert len(pb.scenarios) == 16  # 10 one-off and ladder scenarios + 6 everyday journeys' (target.journey)
    for sc in pb.scenarios.values():
        assert set(sc.target.segments) <= SEED_CN and sc.target.segments
        assert sc.offer.kind in OFFER_KINDS and sc.channel in CHANNELS
        assert "{name}" in sc.script_zh and "{name}" in sc.script_en
        if sc.offer.kind != "none":
            assert "{code}" in sc.script_zh and "{code}" in sc.script_en, sc.id
    assert set(pb.response_defaults) == SEED_CN
    assert all(0 < b < t < 1 for t, b in pb.response_defaults.values())
    assert pb.get("online_gmv").exclude_active and not pb.get("mid_month_push").exclude_active
    assert pb.get("mid_month_push").target.orders_eq == 1


def test_offer_labels_and_discounts() -> None:
    assert Offer("voucher", 50, 200).label("zh") == "50元代金券（满200元可用）"
    assert Offer("discount", 15, 0).label("zh") == "8.5折券" and Offer("discount", 15, 0).label("en") == "15% off"
    assert Offer("voucher", 50, 200).discount_on(199.99) == 0.0
    assert Offer("voucher", 50, 200).discount_on(200) == 50
    assert Offer("discount", 15, 100).discount_on(300) == 45.0
    assert Offer("gift_pack", 60, 0).discount_on(40) == 40


@pytest.mark.usefixtures("english")
def test_a_brand_file_replaces_the_shipped_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = resources.files("winback").joinpath("rules", "scenarios.toml").read_text(encoding="utf-8")
    own = tmp_path / "mine.toml"
    own.write_text(text.replace("cost_per_contact = 1.5", "cost_per_contact = 4.0"), encoding="utf-8")
    monkeypatch.setenv("WINBACK_SCENARIOS", str(own))  # read once, by Settings.load at the entry point
    assert Winback(Settings.load()).campaigns.playbook().defaults["cost_per_contact"] == 4.0
    monkeypatch.setenv("WINBACK_SCENARIOS", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        Winback(Settings.load()).campaigns.playbook()
    assert load_playbook().defaults["cost_per_contact"] == 1.5  # the shipped file: the environment is not read here


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ('[[scenario]]\nid = "x"\n', "incomplete"),
        ("[[scenario\n", "not valid TOML"),
        ('[[big_promo_phase]]\nid = "p"\nscenario = "nope"\n', "unknown scenario 'nope'"),
    ],
)
@pytest.mark.usefixtures("english")
def test_broken_files_say_what_is_wrong(broken: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_playbook(broken, "broken.toml")


@pytest.mark.usefixtures("english")
def test_wrong_channel_is_named() -> None:
    text = resources.files("winback").joinpath("rules", "scenarios.toml").read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match="channel 'fax'"):
        parse_playbook(text.replace('channel = "sms"', 'channel = "fax"', 1))


def test_a_scenario_is_found_by_its_id_its_chinese_or_its_english_name() -> None:
    pb = load_playbook()
    assert pb.get("换季上新").id == "season_change"
    assert pb.get("season change / NEW collection").id == "season_change"  # case and spaces do not matter
    assert pb.get("S级大促/特卖") is pb.get("Big sale") is pb.get("big_sale")
    with pytest.raises(NotFoundError, match="没有场景 '大促'") as exc:
        pb.get("大促")
    assert "big_sale (S级大促/特卖)" in (exc.value.hint or "")


def test_a_name_two_scenarios_share_is_an_error_listing_both() -> None:
    text = resources.files("winback").joinpath("rules", "scenarios.toml").read_text(encoding="utf-8")
    twin = text.replace('name_en = "Online GMV"', 'name_en = "Big sale"')
    pb = parse_playbook(twin, "twin.toml")
    with pytest.raises(InputError, match="不唯一") as exc:
        pb.get("big sale")
    assert "big_sale (S级大促/特卖)" in (exc.value.hint or "") and "online_gmv (提升线上GMV)" in (exc.value.hint or "")
    assert pb.get("提升线上GMV").id == "online_gmv"
