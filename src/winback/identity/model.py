"""The splink model that scores pairs of member records (DuckDB backend, in a scratch in-memory database that
`identity.store.scratch` opens: splink's own tables never touch the warehouse).

Columns compared (prepared by `identity.store.member_features`): phone (E.164), name (spaces removed, lower case),
birthday (ISO text), wechat_id, store_id. Pairs are generated only by blocking rules, so the work grows with
the number of candidate pairs, not with members²:

- same phone (placeholder numbers shared by more than `MAX_SHARED` records are left out),
- same WeChat id,
- same name and birthday,
- same name and store.

Training is reproducible: u by random sampling with a fixed seed, m by expectation maximisation on two blocking
rules whose comparisons are deterministic, the prior from deterministic rules. Starting m values are set so
that a tiny data set (where EM has too few pairs) still gets a sensible model.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.internals.exceptions import SplinkException

from winback.errors import EngineError
from winback.i18n import _
from winback.identity import store

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

MAX_SHARED = 20  # a phone or WeChat id on more records than this is a placeholder, not a person
PRIOR_RULE_RECALL = 0.8  # share of true duplicates the near-certain rules of `_prior` are assumed to find
MIN_PAIRS_FOR_EM = 50  # a training rule yielding fewer pairs is skipped
U_SAMPLE_PAIRS = 1_000_000  # pairs sampled for u (2M cost 2.3x the time at 200k members for the same u)
MIN_PAIRS_FOR_U = 100_000  # fewer record pairs than this (≈ 450 members): keep the configured u values
INPUT = "members_in"  # the features' table in the scratch database

for _name in ("splink", "splink.internals"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def _name_one_char_apart(left: str, right: str) -> str:
    """Same length and at most one character differs (characters, not bytes: works for 汉字)."""
    diffs = " + ".join(f"(substr({left}, {i}, 1) <> substr({right}, {i}, 1))::INTEGER" for i in range(1, 5))
    return f"(length({left}) = length({right}) AND substr({left}, 5) = substr({right}, 5) AND ({diffs}) <= 1)"


# How guides save a customer they know by surname only: 王姐, 李女士, 张先生, 刘老师 …
HONORIFICS = ("小姐", "女士", "先生", "太太", "阿姨", "老师", "宝妈", "姐姐", "姐", "妹", "哥", "弟", "姨", "总", "叔")


def _surname_and_honorific(left: str, right: str) -> str:
    """Same first character, and one of the two is just that character plus an honorific."""
    pattern = "^.(" + "|".join(HONORIFICS) + ")$"
    return (
        f"(substr({left}, 1, 1) = substr({right}, 1, 1) AND "
        f"(regexp_matches({left}, '{pattern}') OR regexp_matches({right}, '{pattern}')))"
    )


def _exact_or_one_digit_apart(column: str, *, u_probabilities: list[float]) -> Any:
    """Exact match, one digit apart (a typo), or else: the phone and birthday comparisons."""
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            cll.CustomLevel(f"levenshtein({column}_l, {column}_r) <= 1", label_for_charts="one digit apart"),
            cll.ElseLevel(),
        ],
    ).configure(m_probabilities=[0.85, 0.05, 0.10], u_probabilities=u_probabilities)


def _comparisons() -> list[Any]:
    name_l, name_r = "name_l", "name_r"
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name"),
            cll.CustomLevel(_name_one_char_apart(name_l, name_r), label_for_charts="one character apart"),
            cll.CustomLevel(
                f"(length({name_l}) >= 2 AND length({name_r}) >= 2 AND "
                f"(strpos({name_l}, {name_r}) > 0 OR strpos({name_r}, {name_l}) > 0))",
                label_for_charts="one contains the other",
            ),
            cll.CustomLevel(_surname_and_honorific(name_l, name_r), label_for_charts="surname + honorific"),
            cll.ElseLevel(),
        ],
    ).configure(m_probabilities=[0.75, 0.08, 0.07, 0.05, 0.05], u_probabilities=[0.001, 0.005, 0.002, 0.0005, 0.9915])
    phone = _exact_or_one_digit_apart("phone", u_probabilities=[1e-5, 1e-4, 0.99989])
    birthday = _exact_or_one_digit_apart("birthday", u_probabilities=[1e-4, 2e-3, 0.9979])
    wechat = cl.ExactMatch("wechat_id").configure(m_probabilities=[0.7, 0.3], u_probabilities=[1e-6, 0.999999])
    store = cl.ExactMatch("store_id").configure(m_probabilities=[0.7, 0.3], u_probabilities=[0.05, 0.95])
    return [phone, name, birthday, wechat, store]


def _prediction_rules() -> list[Any]:
    return [
        f"l.phone = r.phone AND l.phone_n <= {MAX_SHARED}",
        f"l.wechat_id = r.wechat_id AND l.wechat_n <= {MAX_SHARED}",
        block_on("name", "birthday"),
        block_on("name", "store_id"),
    ]


def settings(prior: float = 1e-4) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="member_id",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=_prediction_rules(),
        probability_two_random_records_match=prior,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=[],
        em_convergence=1e-4,
        max_iterations=25,
        linker_uid="winback",  # fixed so that the saved model is identical run to run
    )


@dataclass
class ScoredPairs:
    pairs: pa.Table  # member_id_l, member_id_r, match_probability, match_weight, match_key
    model: dict[str, Any]  # the trained splink settings
    trained: list[str]  # which training steps ran (EM is skipped when a rule yields too few pairs)


def score_pairs(features: pa.Table, *, seed: int, floor: float) -> ScoredPairs:
    """Train the model on `features` (see module doc) and return the pairs scored at or above `floor`."""
    if features.num_rows < 2:
        empty = pa.table(
            {
                "member_id_l": pa.array([], pa.string()),
                "member_id_r": pa.array([], pa.string()),
                "match_probability": pa.array([], pa.float64()),
                "match_weight": pa.array([], pa.float64()),
                "match_key": pa.array([], pa.string()),
            }
        )
        return ScoredPairs(empty, {}, [])
    try:
        with store.scratch() as scratch:
            return _score(scratch, features, seed, floor)
    except SplinkException as exc:  # splink reports its own failing SQL this way
        raise EngineError(_("identity resolution failed in DuckDB: {exc}", exc=_first_line(exc))) from exc


def _score(scratch: DuckDBEngine, features: pa.Table, seed: int, floor: float) -> ScoredPairs:
    sdf = store.splink_input(scratch, features, INPUT)
    n = features.num_rows
    linker = Linker(sdf, settings(prior=_prior(scratch, n)), log_level=None)
    trained = ["prior"]
    all_pairs = n * (n - 1) / 2
    if all_pairs >= MIN_PAIRS_FOR_U:  # below this the sample is too small to beat the configured u values
        max_pairs = float(min(U_SAMPLE_PAIRS, all_pairs))
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed, min_count_per_level=None)
        trained.append("u")
    for rule in (f"l.phone = r.phone AND l.phone_n <= {MAX_SHARED}", block_on("name", "birthday")):
        if _pairs_for(scratch, rule) < MIN_PAIRS_FOR_EM:
            continue
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        except SplinkException:  # EM could not run on these pairs: the configured m values stand
            continue
        trained.append(f"em:{rule if isinstance(rule, str) else 'name+birthday'}")
    predictions = linker.inference.predict(threshold_match_probability=floor, warning_mode="never")
    pairs = store.scored_pairs(scratch, predictions.physical_name)
    model = linker.misc.save_model_to_json(out_path=None)
    return ScoredPairs(pairs, model, trained)


def _prior(scratch: DuckDBEngine, n: int) -> float:
    """P(two random records are one person): pairs found by near-certain rules (same phone and name, or same
    WeChat id), scaled up for an assumed recall of 0.8, kept within [1 / all pairs, 1 %]."""
    all_pairs = max(n * (n - 1) / 2, 1.0)
    found = store.near_certain_pairs(scratch, INPUT, max_shared=MAX_SHARED)
    return min(max(found / PRIOR_RULE_RECALL / all_pairs, 1.0 / all_pairs), 0.01)


def _pairs_for(scratch: DuckDBEngine, rule: Any) -> int:
    """Pairs a training rule would yield (cheap count on the registered input)."""
    cond = rule if isinstance(rule, str) else "l.name = r.name AND l.birthday = r.birthday"
    return store.pairs_meeting(scratch, INPUT, cond)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def weight_to_probability(weight: float) -> float:
    return 1.0 / (1.0 + math.pow(2.0, -weight))
