"""Lifecycle stages cannot contradict the recency tiers (issue 9), checked with the shipped rules' own SQL on random
snapshots (hypothesis), and every label names one segment only."""

from __future__ import annotations

from collections import defaultdict

import duckdb
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from winback.lifecycle.rules import load_schemes

SCHEMES = load_schemes()
ACTIVE_STAGES = {"new", "trial", "active_repeat"}
DORMANT_TIERS = {"near_dormant", "hibernating", "lost"}
CON = duckdb.connect()  # in memory, only ever holds the example being checked


@st.composite
def snapshot_rows(draw: st.DrawFn) -> dict[str, object]:
    days = draw(st.integers(0, 60))
    if days == 0:  # never purchased: no recency, cycle, scores or model values
        return {"purchase_days": 0, "recency_days": None, "cycle_days": None, "p_alive": None, "m_score": None}
    return {
        "purchase_days": days,
        "recency_days": draw(st.integers(1, 2000)),
        "cycle_days": draw(st.floats(0.5, 900)),
        "p_alive": draw(st.none() | st.floats(0, 1)),
        "m_score": draw(st.integers(1, 5)),
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(snapshot_rows(), min_size=1, max_size=60))
def test_stages_never_contradict_the_tiers(rows: list[dict[str, object]]) -> None:
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [("purchase_days", pa.int32()), ("recency_days", pa.int32()), ("cycle_days", pa.float64()),
             ("p_alive", pa.float64()), ("m_score", pa.int32())]
        ),
    )  # fmt: skip
    cases = ", ".join(f"{SCHEMES[s].case_sql()} AS {s}" for s in ("seed_cn", "cycle", "lifecycle"))
    CON.register("raw", table)
    got = CON.sql(
        f"SELECT recency_days, overdue_ratio, {cases} FROM "
        "(SELECT *, CAST(recency_days AS DOUBLE) / cycle_days AS overdue_ratio FROM raw) AS snap"
    ).fetchall()
    CON.unregister("raw")
    for recency, overdue, tier, cycle, stage in got:
        assert (stage == "potential") == (tier == "never_purchased")
        if stage == "churned":
            # never within the own cycle, never within the last 180 days (not active, not silent)
            assert tier in DORMANT_TIERS and cycle in {"due", "overdue", "lapsed"}
            assert recency >= 180 and overdue >= 1.5
        if cycle == "within_cycle" or (recency is not None and recency < 180):
            assert stage != "churned"
        if stage in ACTIVE_STAGES:  # a stage that says "active" is active by the tiers and within 1.5 cycles
            assert tier == "active" and overdue < 1.5
        if tier == "lost":  # a lost member is never new, trial or active repeat; if also overdue, churned
            assert stage not in ACTIVE_STAGES
            if overdue >= 1.5:
                assert stage == "churned"


def test_every_label_names_one_segment() -> None:
    """A label (zh or en) shown on a screen means one set of members: the same label in two schemes must carry the
    same predicate (never purchased), never two different ones (流失会员 was both seed_cn lost and lifecycle
    churned)."""
    for lang in ("zh", "en"):
        meaning: dict[str, set[str]] = defaultdict(set)
        for scheme in SCHEMES.values():
            for rule in scheme.rules:
                meaning[rule.label(lang)].add(rule.when)
        clashes = {label: whens for label, whens in meaning.items() if len(whens) > 1}
        assert not clashes, (lang, clashes)
