"""Rules files: shipped schemes, and predicates that must be rejected with the rule named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from winback.errors import ConfigError
from winback.lifecycle.rules import SNAPSHOT_COLUMNS, load_schemes, parse_schemes, read_rules_file, validate_predicate

CONTRACT_SEGMENTS = {
    "seed_cn": ["never_purchased", "active", "silent", "near_dormant", "hibernating", "lost"],
    "months": ["never_purchased", "active", "marginal", "dormant", "lost"],
    "lifecycle": ["potential", "churned", "trial", "new", "active_repeat", "prechurn_high", "prechurn_low"],
    "value": ["head", "waist", "tail"],
}


def test_shipped_schemes_use_the_contract_identifiers() -> None:
    schemes = load_schemes()
    assert {"seed_cn", "months", "cycle", "lifecycle", "rfm", "value"} <= set(schemes)
    for name, segments in CONTRACT_SEGMENTS.items():
        assert sorted(schemes[name].segments) == sorted(segments), name
    for s in schemes.values():
        assert s.rules[-1].when == "TRUE"
        assert all(r.zh and r.en for r in s.rules)


def _doc(when: str, segment: str = "bad_rule") -> str:
    return f"""
[schemes.mine]
zh = "我的"
en = "mine"
rules = [
  {{ segment = "{segment}", when = "{when}", zh = "甲", en = "a" }},
  {{ segment = "rest", when = "true", zh = "乙", en = "b" }},
]
"""


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("DROP TABLE orders", "DROP statement, not a predicate"),
        ("recency_days > 1; DROP TABLE orders", "2 statements"),
        ("recency_days > (SELECT max(amount) FROM orders)", "subqueries are not allowed"),
        ("EXISTS (SELECT 1 FROM orders)", "subqueries are not allowed"),
        ("phone_raw IS NOT NULL", "unknown column 'phone_raw'"),
        ("o.recency_days > 3", "names a table"),
        ("read_csv('x.csv') > 1", "not allowed"),
        ("my_udf(recency_days) > 1", "unknown function 'MY_UDF'"),
        ("recency_days >", "cannot parse"),
    ],
)
@pytest.mark.usefixtures("english")
def test_bad_predicates_are_rejected_naming_the_rule(tmp_path: Path, when: str, message: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(_doc(when), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_rules_file(path)
    text = info.value.message
    assert "scheme 'mine'" in text and "segment 'bad_rule'" in text, text
    assert message.lower() in text.lower(), text
    assert str(path) in text


def test_unknown_column_hint_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        validate_predicate("spend > 3", where="rule x")
    assert "recency_days" in (info.value.hint or "")


def test_safe_expressions_are_kept_and_normalised() -> None:
    tree = validate_predicate(
        "coalesce(p_alive, 1) >= 0.5 AND tier IN ('VIP', '贵宾') AND NOT recency_days IS NULL "
        "AND round(aov, 0) BETWEEN 10 AND 200 AND lower(register_channel) LIKE 'on%' AND orders::double / 2 > 1",
        where="rule ok",
    )
    assert "COALESCE(p_alive, 1) >= 0.5" in tree.sql("duckdb")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_doc("recency_days < 3").replace('when = "true"', 'when = "recency_days > 3"'), 'must be `when = "true"`'),
        (_doc("recency_days < 3", segment="rest"), "appears twice"),
        (_doc("recency_days < 3", segment="Not An Id"), "must be an identifier"),
        ("[schemes.mine]\nzh='x'\nen='y'\n", "`rules` is missing"),
        ("title = 'no schemes'\n", "no [schemes.NAME] tables"),
        (_doc("recency_days < 3").replace('en = "mine"', ""), "`en` is missing"),
    ],
)
@pytest.mark.usefixtures("english")
def test_malformed_schemes_are_rejected(doc: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        parse_schemes(tomllib.loads(doc), "user.toml")
    assert message in info.value.message
    assert info.value.message.startswith("user.toml")


def test_user_file_adds_and_replaces_schemes(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(_doc("recency_days < 30", segment="hot").replace("schemes.mine", "schemes.value"), "utf-8")
    schemes = load_schemes([path])
    assert schemes["value"].segments == ["hot", "rest"]
    assert "seed_cn" in schemes


@pytest.mark.usefixtures("english")
def test_unreadable_or_invalid_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the rules file"):
        read_rules_file(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[schemes.x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_rules_file(bad)


def test_every_known_column_exists_in_the_snapshot_table(con) -> None:
    cols = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'member_snapshot'"
        ).fetchall()
    }
    assert set(SNAPSHOT_COLUMNS) <= cols


def test_a_predicate_checked_once_per_process_still_names_each_rule_when_wrong() -> None:
    """predicate_sql keeps what it checked (a refresh parses the same predicates two or three times): the same SQL
    the second time, and a failing predicate fails again, naming the rule it is in each time."""
    from winback.lifecycle.rules import predicate_sql

    first = predicate_sql("recency_days  >= 90 and orders>1", where="rule a")
    assert (
        first
        == predicate_sql("recency_days  >= 90 and orders>1", where="rule b")
        == (validate_predicate("recency_days  >= 90 and orders>1", where="rule c").sql(dialect="duckdb"))
    )
    for where in ("scheme 'x', segment 'a'", "scheme 'y', segment 'b'"):
        with pytest.raises(ConfigError) as err:
            predicate_sql("spend > 3", where=where)
        assert where in err.value.message
