"""`winback uplift fit|report|list|score`: learn whom a touch changes from the brand's own control groups.

A thin shell over `wb.uplift` (uplift.service.UpliftService), imported when a command runs. `render_targeting`
prints the targeting block of `campaign create --target uplift`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, fmt, handle_errors, table
from winback.i18n import N_, t

if TYPE_CHECKING:
    from winback.uplift.types import ModelList, ScoreResult, TargetingSummary, UpliftModelInfo

uplift_app = typer.Typer(help="Uplift models: whom a touch changes, learned from control groups.", no_args_is_help=True)
app.add_typer(uplift_app, name="uplift")

JSON = typer.Option(False, "--json", help="Print one JSON object.")
MODEL_ID = typer.Argument(..., help="The model id (e.g. U0001).")
DECISION_LABELS = {
    "target": N_("chosen (the touch pays)"),
    "explore": N_("exploration slice (random)"),
    "sure_thing": N_("dropped: would buy anyway"),
    "no_response": N_("dropped: will not respond"),
    "over_budget": N_("dropped: over the budget"),
}


def _split(values: list[str] | None) -> list[str] | None:
    out = [v.strip() for item in values or [] for v in item.split(",") if v.strip()]
    return out or None


@uplift_app.command("fit")
@handle_errors()
def fit_cmd(
    campaign: list[str] = typer.Option(
        None, "--campaign", help="Learn from these campaigns (default: every finished one)."
    ),
    file: Path = typer.Option(None, "--file", help="Learn from an experiment's file instead (CSV/TSV/XLSX/Parquet)."),
    id_column: str = typer.Option("member_id", "--id", help="With --file: the member id column."),
    arm: str = typer.Option("arm", "--arm", help="With --file: the column holding the arm label."),
    treated: list[str] = typer.Option(None, "--treated", help="With --file: the treated arms' labels (default: all)."),
    control: str = typer.Option("control", "--control", help="The control arm's label, exactly as in the data."),
    outcome: str = typer.Option("revenue", "--outcome", help="revenue, responded or margin; with --file a column."),
    features: list[str] = typer.Option(None, "--features", help="With --file: feature columns (default: all others)."),
    learner: str = typer.Option("x", "--learner", help="x (X-learner) or t (T-learner)."),
    validation: float = typer.Option(0.3, "--validation", help="Share of every arm held out to judge the model."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split and the boosting."),
    encoding: str = typer.Option("auto", "--encoding", help="auto (UTF-8, else GBK) or a codec name."),
    sheet: str = typer.Option(None, "--sheet", help="XLSX sheet name (default: the first)."),
    json_output: bool = JSON,
) -> None:
    """Fit an uplift model on finished campaigns (or a file) and judge it on held-out members."""
    wb = current()
    if file is not None:
        result = wb.uplift.fit_file(file, id_column=id_column, arm=arm, control=control, outcome=outcome,
                                    treated=_split(treated), features=_split(features), learner=learner,
                                    validation=validation, seed=seed, encoding=encoding, sheet=sheet)  # fmt: skip
    else:
        result = wb.uplift.fit(_split(campaign), outcome=outcome, learner=learner, validation=validation, seed=seed)
    emit(result, json_output, lambda r: _render_model(r.model, wb.settings.lang))


@uplift_app.command("report")
@handle_errors()
def report_cmd(model_id: str = MODEL_ID, json_output: bool = JSON) -> None:
    """A model's source and its held-out validation: Qini, uplift at k, observed vs predicted lift per decile."""
    wb = current()
    emit(wb.uplift.report(model_id), json_output, lambda r: _render_model(r, wb.settings.lang))


@uplift_app.command("list")
@handle_errors()
def list_cmd(json_output: bool = JSON) -> None:
    """The fitted uplift models."""
    wb = current()
    emit(wb.uplift.list(), json_output, lambda r: _render_list(r, wb.settings.lang))


@uplift_app.command("score")
@handle_errors()
def score_cmd(
    model_id: str = MODEL_ID,
    file: Path = typer.Argument(..., help="A file with the model's feature columns, one row per member."),
    out: Path = typer.Option(..., "--out", help="CSV to write: member id and predicted uplift per arm."),
    id_column: str = typer.Option("member_id", "--id", help="The member id column."),
    encoding: str = typer.Option("auto", "--encoding", help="auto (UTF-8, else GBK) or a codec name."),
    sheet: str = typer.Option(None, "--sheet", help="XLSX sheet name (default: the first)."),
    json_output: bool = JSON,
) -> None:
    """Predicted uplift per arm for every member of a file."""
    wb = current()
    result = wb.uplift.score(model_id, file, out, id_column=id_column, encoding=encoding, sheet=sheet)
    emit(result, json_output, lambda r: _render_score(r, wb.settings.lang))


def _ci(ci: list[Any]) -> str:
    return "-" if not ci or ci[0] is None else f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def _render_model(m: UpliftModelInfo, lang: str) -> None:
    src = ", ".join(m.source["campaigns"]) if "campaigns" in m.source else m.source.get("file", "")
    console.print(t("uplift model {model}: {learner}-learner on {outcome} ({kind}), from {source}", lang,
                    model=m.model_id, learner=m.learner.upper(), outcome=m.outcome, kind=m.outcome_kind,
                    source=src), highlight=False)  # fmt: skip
    console.print(t("{train:,} members to fit, {valid:,} held out to judge it; {features} features; {seconds} s", lang,
                    train=m.rows_train, valid=m.rows_valid, features=len(m.features),
                    seconds=fmt(m.fit_seconds)), highlight=False)  # fmt: skip
    for arm, v in m.validation.items():
        console.print(t("arm {arm} vs {control}: Qini coefficient {qini} (0 = no better than random)", lang,
                        arm=arm, control=m.control, qini=fmt(v["qini_coefficient"])), highlight=False)  # fmt: skip
        heads = [t(h, lang) for h in (N_("decile"), N_("members"), N_("predicted lift"), N_("observed lift"),
                                      N_("95% interval"))]  # fmt: skip
        rows = [
            [d["decile"], d["members"], fmt(d["predicted"]), fmt(d["observed"]), _ci(d["ci"])] for d in v["deciles"]
        ]
        console.print(table(t("held-out members by predicted uplift", lang), heads, rows))


def _render_list(r: ModelList, lang: str) -> None:
    if not r.models:
        console.print(t("no uplift model yet: fit one with winback uplift fit", lang))
        return
    heads = [t(h, lang) for h in (N_("model"), N_("created"), N_("learner"), N_("outcome"), N_("Qini"))]
    rows = [
        [
            m.model_id,
            f"{m.created_at:%Y-%m-%d %H:%M}",
            m.learner,
            m.outcome,
            ", ".join(f"{a} {fmt(v['qini_coefficient'])}" for a, v in m.validation.items()),
        ]
        for m in r.models
    ]
    console.print(table(t("uplift models", lang), heads, rows))


def _render_score(r: ScoreResult, lang: str) -> None:
    means = ", ".join(f"{a} {fmt(v)}" for a, v in r.mean_uplift.items())
    console.print(t("scored {rows:,} members with {model} into {out} (mean uplift {means})", lang, rows=r.rows,
                    model=r.model_id, out=r.out, means=means), highlight=False)  # fmt: skip


def render_targeting(s: TargetingSummary | None, lang: str) -> None:
    """The targeting block of a campaign preview (`campaign create --target uplift`)."""
    if s is None:
        return
    if s.method == "value_at_stake":
        console.print(t("targeting: no uplift model yet, so members are ranked by value at stake", lang))
    else:
        console.print(t("targeting by uplift model {model}: {kept:,} of {audience:,} members kept", lang,
                        model=s.model_id, kept=s.kept, audience=s.audience), highlight=False)  # fmt: skip
    rows = [[t(DECISION_LABELS[k], lang), n] for k, n in s.counts.items() if n]
    console.print(table(None, [t("decision", lang), t("members", lang)], rows))
    if s.expected_incremental_revenue is not None:
        console.print(t("expected incremental revenue {value} (held-out interval {ci}), expected cost {cost}", lang,
                        value=fmt(s.expected_incremental_revenue), ci=_ci(s.expected_incremental_revenue_ci),
                        cost=fmt(s.expected_cost)), highlight=False)  # fmt: skip
    console.print(t("an exploration slice of {explore} and a holdout of {holdout} keep the model learning", lang,
                    explore=f"{s.explore_share:.0%}", holdout=f"{s.holdout:.0%}"), highlight=False)  # fmt: skip
