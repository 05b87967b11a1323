"""Hostile or careless rules files: nesting deeper than Python parses, and oversized files, are a ConfigError
naming the file and the limit (they used to be RecursionError tracebacks, and a 20,000-rule file was accepted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from winback import i18n
from winback.campaigns import scenarios
from winback.errors import ConfigError
from winback.lifecycle import rules
from winback.lifecycle.rules import MAX_NESTING, MAX_PREDICATE_CHARS, MAX_RULES, MAX_SCHEMES, read_rules_file


def _rule(segment: str, when: str) -> str:
    return f'{{segment="{segment}",when="{when}",zh="甲",en="a"}},\n'


def _file(tmp_path: Path, *schemes: list[str], name: str = "rules.toml") -> Path:
    body = "".join(
        f'[schemes.s{i}]\nzh = "方案"\nen = "scheme"\nrules = [\n{"".join(rs)}]\n' for i, rs in enumerate(schemes)
    )
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _refused(path: Path, *needles: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        read_rules_file(path)
    for needle in (str(path), *needles):
        assert needle in info.value.message
    return info.value


@pytest.mark.parametrize(
    "when",
    [
        "NOT " * 490 + "true",  # under the length limit, deeper than sqlglot's recursive parser goes
        "- " * 900 + "1 > 0",
    ],
    ids=["not-chain", "unary-minus"],
)
def test_deep_predicate_is_a_config_error(tmp_path: Path, when: str) -> None:
    path = _file(tmp_path, [_rule("deep", when), _rule("rest", "true")])
    with i18n.using("en"):
        _refused(path, "'deep'", "recursion limit")
    err = _refused(path, "'deep'")  # the default language: Chinese
    assert "嵌套过深" in err.message and err.hint


@pytest.mark.usefixtures("english")
def test_nested_parentheses_over_the_limit(tmp_path: Path) -> None:
    deep = "(" * 400 + "true" + ")" * 400
    _refused(_file(tmp_path, [_rule("deep", deep), _rule("rest", "true")]), "400", f"limit of {MAX_NESTING}")
    case = "CASE WHEN " * 40 + "true" + " THEN true END" * 40
    _refused(_file(tmp_path, [_rule("deep", case), _rule("rest", "true")]), "40 levels", f"limit of {MAX_NESTING}")
    fine = "(" * MAX_NESTING + "recency_days < 90" + ")" * MAX_NESTING
    assert read_rules_file(_file(tmp_path, [_rule("ok", fine), _rule("rest", "true")]))["s0"].segments == ["ok", "rest"]


def test_parentheses_inside_a_string_do_not_count(tmp_path: Path) -> None:
    when = "tier = '" + "(" * 100 + "'"
    assert read_rules_file(_file(tmp_path, [_rule("odd", when), _rule("rest", "true")]))["s0"].segments[0] == "odd"


@pytest.mark.usefixtures("english")
def test_deeply_nested_toml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nested.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    _refused(path, "recursion limit")
    inline = tmp_path / "inline.toml"
    inline.write_text("x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n", encoding="utf-8")
    _refused(inline, "recursion limit")


def test_long_predicate_is_refused(tmp_path: Path) -> None:
    when = "recency_days < 90 AND " * 120 + "true"
    assert len(when) > MAX_PREDICATE_CHARS
    _refused(_file(tmp_path, [_rule("long", when), _rule("rest", "true")]), "'long'", f"{MAX_PREDICATE_CHARS:,}")


def test_too_many_rules_in_a_scheme(tmp_path: Path) -> None:
    many = [_rule(f"r{i}", f"orders={i}") for i in range(10_000)] + [_rule("rest", "true")]  # < 1 MiB
    with i18n.using("en"):
        _refused(_file(tmp_path, many), "10,001", f"limit of {MAX_RULES}")
    err = _refused(_file(tmp_path, many), "10,001", f"{MAX_RULES}")  # the default language: Chinese
    assert "每个方案" in err.message
    at_limit = [_rule(f"r{i}", f"orders = {i}") for i in range(MAX_RULES - 1)] + [_rule("rest", "true")]
    assert len(read_rules_file(_file(tmp_path, at_limit))["s0"].rules) == MAX_RULES


@pytest.mark.usefixtures("english")
def test_too_many_schemes_in_a_file(tmp_path: Path) -> None:
    one = [_rule("all", "true")]
    _refused(_file(tmp_path, *([one] * (MAX_SCHEMES + 1))), f"{MAX_SCHEMES + 1}", f"limit of {MAX_SCHEMES}")
    assert len(read_rules_file(_file(tmp_path, *([one] * MAX_SCHEMES)))) == MAX_SCHEMES


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * (rules.MAX_FILE_BYTES + 10) + "\n", encoding="utf-8")
    _refused(path, f"{rules.MAX_FILE_BYTES:,}")


def test_shipped_rules_are_within_the_limits() -> None:
    shipped = rules.default_schemes()
    assert len(shipped) <= MAX_SCHEMES
    assert all(len(s.rules) <= MAX_RULES for s in shipped.values())


@pytest.mark.usefixtures("english")
def test_scenarios_file_deeply_nested_or_oversized(tmp_path: Path) -> None:
    path = tmp_path / "scenarios.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="recursion limit") as info:
        scenarios.load_playbook(path)
    assert str(path) in info.value.message
    path.write_text("# " + "x" * (scenarios.MAX_PLAYBOOK_BYTES + 10) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{scenarios.MAX_PLAYBOOK_BYTES:,}") as info:
        scenarios.load_playbook(path)
    assert str(path) in info.value.message
    assert scenarios.load_playbook().scenarios  # the shipped playbook still loads
