"""Training sets (warehouse campaigns or a file), scoring a file, and a targeting plan from a fitted model.

The warehouse side runs its SQL through uplift/store.py; a file is read with campaigns/table_file.read_table and
checked exactly as `winback measure` checks it (campaigns/measure.py: the missing-column message, the arm and
control-label checks of measure_columns, numeric_column for the outcome).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from winback.errors import InputError
from winback.i18n import _
from winback.uplift import store
from winback.uplift.targeting import Capacity, decide
from winback.uplift.types import WAREHOUSE_FEATURES, WAREHOUSE_OUTCOMES, TrainingSet

if TYPE_CHECKING:
    from winback.campaigns.types import DraftSpec
    from winback.engine.duckdb_engine import DuckDBEngine
    from winback.uplift.fitting import FittedModel


def _columns(table: pa.Table, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: table.column(n).to_numpy(zero_copy_only=False) for n in names}


def warehouse_training_set(db: DuckDBEngine, campaign_ids: list[str], outcome: str, now: dt.datetime) -> TrainingSet:
    """Every member of the campaigns (features frozen at each launch), arm and outcome in the window."""
    known = {c["campaign_id"]: c for c in store.campaign_windows(db, campaign_ids)}
    for cid in campaign_ids:
        c = known.get(cid)
        if c is None:
            raise InputError(_("no campaign {cid}", cid=cid), hint=_("List them with: winback campaign list."))
        if c["launched_at"] is None or c["window_end"] > now:
            raise InputError(
                _("campaign {cid} has not finished: its response window ends {end}", cid=cid,
                  end="-" if c["window_end"] is None else f"{c['window_end']:%Y-%m-%d}"),
                hint=_("Learn from campaigns whose window has ended (their outcomes are complete)."),
            )  # fmt: skip
    feats, outs = store.training_rows(db, campaign_ids)
    keys = [f"{k}:{m}" for k, m in zip(feats.column("key").to_pylist(), feats.column("member_id").to_pylist(),
                                         strict=True)]  # fmt: skip
    okeys = [f"{k}:{m}" for k, m in zip(outs.column("key").to_pylist(), outs.column("member_id").to_pylist(),
                                          strict=True)]  # fmt: skip
    if keys != okeys:  # both are ordered by (campaign, member); a mismatch is a bug worth seeing
        raise InputError(_("training rows and outcomes disagree"), hint=_("Report this as a bug."))
    return TrainingSet(
        columns=_columns(feats, WAREHOUSE_FEATURES),
        arms=np.asarray(outs.column("arm").to_pylist(), dtype=object),
        outcome=outs.column(outcome).to_numpy().astype(np.float64),
        control="control",
        outcome_name=outcome,
        outcome_kind=WAREHOUSE_OUTCOMES[outcome],
        source={"campaigns": list(campaign_ids)},
        member_ids=keys,
    )


def file_training_set(
    path: Path | str,
    *,
    id_column: str,
    arm: str,
    control: str,
    outcome: str,
    treated: list[str] | None,
    features: list[str] | None,
    encoding: str,
    sheet: str | None,
) -> TrainingSet:
    """A one-row-per-member experiment file: the arm/control/outcome checks of `winback measure`."""
    from winback.campaigns.measure import label, measure_columns, numeric_column
    from winback.campaigns.table_file import read_table
    from winback.uplift.fitting import outcome_kind_of

    table = read_table(path, encoding=encoding, sheet=sheet)
    if table.rows == 0:
        raise InputError(_("{file} has a header but no rows", file=Path(path).name), hint=_("Give one row per member."))
    ids = [label(v) for v in table.column(id_column)]
    arms = table.column(arm)
    y = numeric_column(outcome, table.column(outcome), table.header_rows)
    measure_columns(arm, arms, control, {outcome: y})  # the same arm and control checks (and messages)
    labels = np.asarray([label(a) for a in arms], dtype=object)
    keep = np.ones(len(labels), dtype=bool)
    if treated:
        missing = [t for t in treated if t not in set(labels.tolist())]
        if missing:
            raise InputError(
                _("treated label {labels} not found in column {arm!r}", labels=", ".join(map(repr, missing)), arm=arm),
                hint=_("The column holds: {shown}.", shown=", ".join(sorted({str(x) for x in labels}))),
            )
        keep = np.isin(labels, [*treated, control])
    names = features or [c for c in table.columns if c not in (id_column, arm, outcome)]
    if not names:
        raise InputError(_("no feature column in {file}", file=Path(path).name),
                         hint=_("Give the member features with --features COL,COL,…"))  # fmt: skip
    columns = {n: np.asarray(table.column(n), dtype=object)[keep] for n in names}
    src = {"file": str(path), "id": id_column, "arm": arm, "control": control, "treated": treated, "rows": table.rows}
    return TrainingSet(columns, labels[keep], y[keep], control, outcome, outcome_kind_of(y[keep]), src,
                       [str(i) for i in np.asarray(ids, dtype=object)[keep]])  # fmt: skip


def write_scores(
    fitted: FittedModel, path: Path | str, out: Path | str, *, id_column: str, encoding: str, sheet: str | None
) -> tuple[int, dict[str, float]]:
    """Score a file's rows and write member id + predicted uplift per arm as CSV; (rows, mean uplift per arm)."""
    from winback.campaigns.table_file import read_table
    from winback.uplift.fitting import score_columns

    table = read_table(path, encoding=encoding, sheet=sheet)
    ids = table.column(id_column)
    names = fitted.learner.features.names
    absent = [n for n in names if n not in table.data]
    if absent:
        raise InputError(
            _("{file} lacks the model's feature columns: {names}", file=Path(path).name, names=", ".join(absent)),
            hint=_("Give a file with every column the model was fitted on: {names}.", names=", ".join(names)),
        )
    ups, _base = score_columns(fitted, {n: table.data[n] for n in names})
    arms = sorted(ups)
    with Path(out).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([id_column, *(f"uplift_{a}" for a in arms)])
        for i, mid in enumerate(ids):
            w.writerow([mid, *(f"{float(ups[a][i]):.6g}" for a in arms)])
    return len(ids), {a: float(np.mean(ups[a])) if len(ids) else 0.0 for a in arms}


def plan_targeting(
    feats: pa.Table, loaded: tuple[dict[str, Any], FittedModel] | None, spec: DraftSpec, cap: Capacity, *, seed: int
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """Every member's decision with its prediction, and the expected figures of the kept members."""
    from winback.uplift.fitting import score_columns

    n = feats.num_rows
    aov = np.nan_to_num(feats.column("aov").to_numpy(zero_copy_only=False).astype(np.float64), nan=0.0)
    offer = spec.variants[0].offer
    discount = np.array([offer.discount_on(a) for a in aov])
    if loaded is None:
        stake = np.nan_to_num(feats.column("value_at_stake").to_numpy(zero_copy_only=False).astype(float), nan=0.0)
        cost = np.full(n, spec.cost_per_contact)
        dec = decide(stake, stake, cost, cap, seed=seed, fallback=True)
        figures = {
            "method": "value_at_stake",
            "model_id": None,
            "revenue": None,
            "revenue_ci": [None, None],
            "predicted": None,
            "margin": None,
            "cost": float(cost[_kept(dec)].sum()),
            "note": _("no uplift model yet (no finished campaign to learn from): ranked by value at stake"),
        }
        return {"decision": dec.tolist(), "predicted_uplift": [None] * n, "expected_increment": stake.tolist()}, figures
    info, fitted = loaded
    if n == 0:  # nobody left to target (exclusions took everyone): nothing to score
        empty = {"decision": [], "predicted_uplift": [], "expected_increment": []}
        return empty, {"method": "uplift", "model_id": info["model_id"], "revenue": 0.0, "revenue_ci": [0.0, 0.0],
                       "predicted": 0.0, "margin": 0.0, "cost": 0.0, "note": None}  # fmt: skip
    ups, base = score_columns(fitted, _columns(feats, tuple(fitted.learner.features.names)))
    up = np.mean(np.vstack(list(ups.values())), axis=0)  # several arms: their mean effect (arms are drawn at launch)
    inc_rev, p_touched = _as_revenue(info["outcome"], info["outcome_kind"], up, base, aov, spec.margin)
    cost = spec.cost_per_contact + discount * p_touched
    net = inc_rev * spec.margin - cost
    dec = decide(net, _as_revenue(info["outcome"], info["outcome_kind"], base, base, aov, spec.margin)[0], cost, cap,
                 seed=seed)  # fmt: skip
    kept = _kept(dec)
    return ({"decision": dec.tolist(), "predicted_uplift": up.tolist(), "expected_increment": net.tolist()},
            _figures(info, fitted, kept, inc_rev, cost, aov, spec.margin))  # fmt: skip


def _kept(dec: np.ndarray) -> np.ndarray:
    return np.isin(dec, ["target", "explore"])


def _as_revenue(outcome: str, kind: str, value: np.ndarray, base: np.ndarray, aov: np.ndarray,
                margin: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(the value in revenue, P(buy | touched)) for a model of `outcome`."""
    if kind == "binary":
        return value * aov, np.clip(base + np.maximum(value, 0), 0, 1)
    rev = value / margin if outcome == "margin" and margin > 0 else value
    base_rev = base / margin if outcome == "margin" and margin > 0 else base
    p = np.where(aov > 0, (base_rev + np.maximum(rev, 0)) / np.maximum(aov, 1e-9), 0.0)
    return rev, np.clip(p, 0, 1)


def _figures(info: dict[str, Any], fitted: FittedModel, kept: np.ndarray, inc_rev: np.ndarray, cost: np.ndarray,
             aov: np.ndarray, margin: float) -> dict[str, Any]:  # fmt: skip
    """Expected incremental revenue of the kept members from the held-out members: the observed lift (treated -
    control) among the same top share of the validation ranking, per member, times the members kept, with its
    interval; the model's own sum of predictions is reported beside it (boosted effects are often too extreme)."""
    n_kept = int(kept.sum())
    share = n_kept / max(len(kept), 1)
    arm = sorted(fitted.valid)[0]
    obs = fitted.observed_lift(arm, share) if n_kept else {"ci": [None, None]}
    scale = float(aov[kept].mean()) if info["outcome_kind"] == "binary" and n_kept else 1.0
    if info["outcome"] == "margin" and margin > 0:
        scale /= margin
    lo, hi = obs["ci"]
    ci = [None if lo is None else lo * scale * n_kept, None if hi is None else hi * scale * n_kept]
    predicted = float(inc_rev[kept].sum())
    revenue = predicted if obs.get("observed") is None else obs["observed"] * scale * n_kept
    return {"method": "uplift", "model_id": info["model_id"], "revenue": revenue, "revenue_ci": ci,
            "predicted": predicted, "margin": revenue * margin, "cost": float(cost[kept].sum()),
            "note": None}  # fmt: skip
