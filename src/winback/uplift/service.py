"""`UpliftService(wb)`: learn whom a touch changes from finished campaigns (or any experiment's file), report a
model, score a file, and target a new campaign's audience (the campaigns service calls `select` and `restrict`
through the hook the app wires in; campaigns imports nothing of this room).

A thin orchestrator: training sets and features come from uplift/store.py (or campaigns/table_file.py for a
file), fitting and validation from uplift/fitting.py over models/uplift*.py, the keep/drop rule from
uplift/targeting.py. Time comes from `wb.now()`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.errors import InputError
from winback.i18n import _
from winback.uplift import store
from winback.uplift.types import (
    DECISIONS,
    WAREHOUSE_OUTCOMES,
    FitResult,
    ModelList,
    ScoreResult,
    TargetingSummary,
    TrainingSet,
    UpliftModelInfo,
)

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.campaigns.audience import Audience
    from winback.campaigns.types import CampaignRequest, DraftSpec
    from winback.uplift.fitting import FittedModel


class UpliftService:
    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    # -- fitting ----------------------------------------------------------------------------------------------
    def fit(
        self,
        campaigns: list[str] | None = None,
        *,
        outcome: str = "revenue",
        learner: str = "x",
        validation: float = 0.3,
        seed: int = 0,
        now: dt.datetime | None = None,
    ) -> FitResult:
        """Fit on the members of finished campaigns (default: every campaign whose window has ended)."""
        from winback.uplift.training import warehouse_training_set

        now = now or self.wb.now()
        db = self.wb.db(write=False)
        ids = campaigns or store.finished_campaign_ids(db, now)
        if not ids:
            raise InputError(
                _("no finished campaign to learn from"),
                hint=_("Launch a campaign with a holdout and wait for its response window to end."),
            )
        if outcome not in WAREHOUSE_OUTCOMES:
            raise InputError(_("unknown outcome {name!r}", name=outcome), hint=_("Use revenue, responded or margin."))
        ts = warehouse_training_set(db, ids, outcome, now)
        return self._fit_and_store(ts, learner=learner, validation=validation, seed=seed, now=now)

    def fit_file(
        self,
        path: Path | str,
        *,
        id_column: str,
        arm: str,
        control: str,
        outcome: str,
        treated: list[str] | None = None,
        features: list[str] | None = None,
        learner: str = "x",
        validation: float = 0.3,
        seed: int = 0,
        encoding: str = "auto",
        sheet: str | None = None,
    ) -> FitResult:
        """Fit on any randomized experiment's file with one row per member (the checks of `winback measure`)."""
        from winback.uplift.training import file_training_set

        ts = file_training_set(path, id_column=id_column, arm=arm, control=control, outcome=outcome,
                               treated=treated, features=features, encoding=encoding, sheet=sheet)  # fmt: skip
        return self._fit_and_store(ts, learner=learner, validation=validation, seed=seed, now=self.wb.now())

    def _fit_and_store(
        self, ts: TrainingSet, *, learner: str, validation: float, seed: int, now: dt.datetime
    ) -> FitResult:
        from winback.uplift.fitting import fit_training_set

        fitted, info = fit_training_set(ts, learner=learner, validation=validation, seed=seed)
        db = self.wb.db()
        model_id = store.next_model_id(db)
        store.insert_model(db, {"model_id": model_id, "created_at": now, **info}, fitted.dumps())
        return FitResult(self._info(store.get_model(db, model_id)[0]))  # type: ignore[index]

    # -- reading models ---------------------------------------------------------------------------------------
    @staticmethod
    def _info(d: dict[str, Any]) -> UpliftModelInfo:
        return UpliftModelInfo(**{**d, "features": list(d["features"]["names"])})

    def _load(self, model_id: str | None) -> tuple[dict[str, Any], FittedModel]:
        from winback.uplift.fitting import FittedModel

        db = self.wb.db(write=False)
        mid = model_id or store.latest_model_id(db)
        got = store.get_model(db, mid) if mid else None
        if got is None:
            known = ", ".join(m["model_id"] for m in store.list_models(db)) or _("none yet")
            raise InputError(
                _("no uplift model {model_id}", model_id=model_id or ""),
                hint=_("Fitted models: {known}. Fit one with: winback uplift fit.", known=known),
            )
        return got[0], FittedModel.loads(got[1])

    def report(self, model_id: str) -> UpliftModelInfo:
        """A model's source, features and held-out validation (Qini, uplift@k, deciles per arm)."""
        return self._info(self._load(model_id)[0])

    def list(self) -> ModelList:
        return ModelList([self._info(d) for d in store.list_models(self.wb.db(write=False))])

    def score(self, model_id: str, path: Path | str, out: Path | str, *, id_column: str = "member_id",
              encoding: str = "auto", sheet: str | None = None) -> ScoreResult:  # fmt: skip
        """Predicted uplift per arm for every row of a file with the model's feature columns; written as CSV."""
        from winback.uplift.training import write_scores

        info, fitted = self._load(model_id)
        rows, means = write_scores(fitted, path, out, id_column=id_column, encoding=encoding, sheet=sheet)
        return ScoreResult(info["model_id"], str(path), str(out), rows, list(info["arms"]), means)

    # -- targeting (called by the campaigns service through the app's hook) ---------------------------------
    def select(
        self, request: CampaignRequest, spec: DraftSpec, audience: Audience, campaign_id: str, now: dt.datetime
    ) -> tuple[Audience, TargetingSummary]:
        """Keep the members worth a touch (targeting.decide); store every member's decision for the launch."""
        from winback.uplift.targeting import DEFAULT_EXPLORE, parse_capacity, parse_target
        from winback.uplift.training import plan_targeting

        model_id = parse_target(request.target or "uplift")
        cap = parse_capacity(request.budget, request.top)
        db = self.wb.db()
        loaded = self._load(model_id) if model_id or store.latest_model_id(db) else None
        ids = [m["member_id"] for m in audience.members]
        feats = store.audience_features(db, ids, audience.as_of, now)
        decisions, figures = plan_targeting(feats, loaded, spec, cap, seed=int(campaign_id.lstrip("C") or 0))
        kept = {i for i, d in zip(ids, decisions["decision"], strict=True) if d in ("target", "explore")}
        counts = {d: int(sum(1 for x in decisions["decision"] if x == d)) for d in DECISIONS}
        summary = TargetingSummary(
            campaign_id=campaign_id, method=figures["method"], model_id=figures["model_id"], audience=len(ids),
            kept=len(kept), counts=counts, budget=cap.share if cap.share is not None else cap.money, top=cap.top,
            expected_incremental_revenue=figures["revenue"], expected_incremental_revenue_ci=figures["revenue_ci"],
            predicted_incremental_revenue=figures["predicted"],
            expected_incremental_margin=figures["margin"], expected_cost=figures["cost"],
            explore_share=DEFAULT_EXPLORE, holdout=spec.holdout, note=figures["note"],
        )  # fmt: skip
        store.write_targeting(db, summary.to_dict(), {"member_id": ids, **decisions}, now)
        members = [m for m in audience.members if m["member_id"] in kept]
        return dataclasses.replace(audience, members=members), summary

    def restrict(self, campaign_id: str, audience: Audience) -> Audience:
        """At launch: the audience of a targeted campaign is the members its draft kept (others pass through)."""
        kept = store.kept_members(self.wb.db(write=False), campaign_id)
        if kept is None:
            return audience
        return dataclasses.replace(audience, members=[m for m in audience.members if m["member_id"] in kept])
