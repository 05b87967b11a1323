"""`PlannerService(wb)`: the repurchase target planner (seed 004) — history matrix, status quo, target and gap,
measures and the solver, the phase table, export and review. A thin orchestrator over planner/store.py (SQL) and
the pure modules (matrix, estimate, measures, solver, phases, planning, review)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.errors import InputError, NotFoundError
from winback.i18n import _
from winback.planner import estimate as est
from winback.planner import forecast, matrix, planning, store
from winback.planner.measures import Offer, PlannerConfig, default_config
from winback.planner.types import (
    BacktestResult,
    CellEstimate,
    EstimatorChoice,
    ExportResult,
    HistoryResult,
    Period,
    PlanList,
    PlanResult,
    PlanSummary,
    PlanView,
    ReviewResult,
    SolveResult,
)

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.engine.duckdb_engine import DuckDBEngine


class PlannerService:
    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    # -- shared --------------------------------------------------------------------------------------------------
    def config(self, body: dict[str, Any] | None = None) -> PlannerConfig:
        """The planner file a plan was made with (kept in the plan), else the shipped one."""
        from winback.planner.measures import parse_config

        text = (body or {}).get("planner_toml")
        return parse_config(text, str((body or {}).get("planner_file"))) if text else default_config()

    @staticmethod
    def _read_config(path: Path) -> tuple[str, PlannerConfig]:
        from winback.lifecycle.rules import read_bounded
        from winback.planner.measures import parse_config

        text = read_bounded(
            Path(path),
            _("planner file"),
            _("Give a readable planner file (a copy of the shipped winback/planner/planner.toml)."),
        )
        return text, parse_config(text, str(path))

    def _lang(self) -> str:
        return self.wb.settings.lang

    def _default_as_of(self, db: DuckDBEngine) -> dt.date:
        last = store.last_order_day(db)
        if last is None:
            raise InputError(_("there are no orders to plan from"), hint=_("Import orders first (winback import)."))
        return min(last + dt.timedelta(days=1), self.wb.now().date() + dt.timedelta(days=1))

    def _labels(
        self, db: DuckDBEngine, snapshot: dt.date, seen_tiers: Sequence[str], cfg: PlannerConfig | None = None
    ) -> tuple[list[str], list[dict[str, str]], list[str]]:
        cfg = cfg or self.config()
        rules = store.stage_rules(db, snapshot)  # the stages as the snapshot's own rules define them
        if not rules:
            from winback.lifecycle.rules import load_schemes

            scheme = load_schemes()["lifecycle"]
            rules = [(s, scheme.label(s, "zh"), scheme.label(s, "en")) for s in scheme.segments]
        stages = matrix.stage_order([r[0] for r in rules], cfg.stages)
        names = {r[0]: r for r in rules}
        labels = [{"stage": s, "zh": names[s][1], "en": names[s][2]} for s in stages]
        tiers = matrix.tier_order(seen_tiers, cfg.tiers, store.tier_spend(db, snapshot))
        return stages, labels, tiers

    # -- history -------------------------------------------------------------------------------------------------
    def history(
        self,
        *,
        years: int = 3,
        by: Sequence[str] = ("stage", "tier"),
        as_of: dt.date | None = None,
        period: Period | None = None,
        export: Path | None = None,
    ) -> HistoryResult:
        """Members at each past period's start by stage × tier, repurchasers, rate, AOV, contribution, change."""
        if years < 1 or years > 20:
            raise InputError(_("--years must be between 1 and 20, got {n}", n=years), hint=_("For example --years 3."))
        bad = [b for b in by if b not in ("stage", "tier")]
        if bad:
            raise InputError(
                _("--by takes stage, tier or both, not {bad}", bad=", ".join(bad)),
                hint=_("For example --by stage,tier."),
            )
        db = self.wb.db(write=False)
        dates = set(store.snapshot_dates(db))
        first = self._first_order(db)
        if period is not None:
            periods = [period]
        else:
            end = as_of or self._default_as_of(db)
            periods = [p for p in matrix.past_periods(end, 365, years) if first is None or p.start > first]
        missing = sorted({p.start for p in periods} - dates)
        if missing:
            raise forecast.missing(missing)
        rows = [(p, store.cell_facts(db, p.start, p.start, p.end)) for p in periods]
        seen = {c.tier for _, cells in rows for c in cells}
        stages, labels, tiers = self._labels(db, periods[-1].start, sorted(seen))
        notes = (
            []
            if period is not None or len(periods) == years
            else [
                _(
                    "{n} of {years} periods shown: the earlier ones start before the first order",
                    n=len(periods),
                    years=years,
                )
            ]
        )
        result = HistoryResult(matrix.history(rows, stages, tiers, list(by)), labels, tiers, notes)
        if export is not None:
            from winback.planner.export import write_history

            write_history(result, Path(export), self._lang())
        return result

    def _first_order(self, db: DuckDBEngine) -> dt.date | None:
        return store.first_order_day(db)

    # -- the status quo ------------------------------------------------------------------------------------------
    def backtest(self, *, as_of: dt.date, days: int = 365) -> BacktestResult:
        """Every estimator at `as_of` against what happened in [as_of, as_of + days): total and cell errors."""
        db = self.wb.db(write=False)
        dates = set(store.snapshot_dates(db))
        cands = forecast.candidates_at(db, as_of, days, dates)
        period = Period(as_of, as_of + dt.timedelta(days=days))
        actual = store.cell_facts(db, as_of, period.start, period.end)
        errors = {f"{r}+{a}": est.errors(cells, actual) for (r, a), cells in cands.items()}
        choice = planning.choose(cands, actual, as_of.isoformat())
        planned = self._choose(db, as_of, days, dates, set(cands))  # what a plan at `as_of` uses: earlier data only
        estimates = {f"{r}+{a}": c for (r, a), c in cands.items()}
        return BacktestResult(as_of, period, errors, choice, actual, estimates, planned)

    def _choose(
        self, db: DuckDBEngine, as_of: dt.date, days: int, dates: set[dt.date], available: set[tuple[str, str]]
    ) -> EstimatorChoice:
        """The estimator by a back-test a plan at `as_of` can run: over the period of `days` before it, or, when
        the brand's history is too short for that (no members two periods back), over the half period before it
        (matrix.backtest_spans); the default when neither can be run."""
        for back, span in matrix.backtest_spans(as_of, days):
            try:
                cands = forecast.candidates_at(db, back, span, dates)
            except NotFoundError:
                continue
            actual = store.cell_facts(db, back, back, as_of)
            half = span if span != days else None
            return planning.choose(cands, actual, back.isoformat(), span_days=half, available=available)
        back, span = matrix.backtest_spans(as_of, days)[-1]
        needs = sorted({back, back - dt.timedelta(days=span), matrix.add_years(back, -1)} - dates)
        return planning.choose(
            None, None, None, needs=", ".join(d.isoformat() for d in needs) or None, available=available
        )

    # -- create ---------------------------------------------------------------------------------------------------
    def create(
        self,
        period: Period,
        *,
        target_revenue: float,
        as_of: dt.date | None = None,
        new_member_share: float | None = None,
        new_member_revenue: float | None = None,
        what_ifs: Sequence[str] = (),
        promotion: str | None = None,
        planner_file: Path | None = None,
    ) -> PlanResult:
        """The target, the status quo of the existing members (registered before the as-of), the gap per cell and
        in total; what-ifs tied to measures; the plan is kept in the warehouse (`plan_id`), with the planner file
        it was made with (`planner_file`, default the shipped one) so that solving it later uses the same data."""
        from winback.planner.measures import parse_what_if
        from winback.planner.phases import promotion_in

        self._check_target(target_revenue, new_member_share, new_member_revenue)
        text, cfg = self._read_config(planner_file) if planner_file is not None else (None, self.config())
        db = self.wb.db(write=False)
        as_of = as_of or min(period.start, self._default_as_of(db))
        dates = set(store.snapshot_dates(db))
        cands = forecast.candidates_at(db, as_of, period.days, dates)
        choice = self._choose(db, as_of, period.days, dates, set(cands))
        cells = cands[(choice.repurchasers, choice.aov)]
        stages, labels, tiers = self._labels(db, as_of, sorted({c.tier for c in cells}), cfg)
        cells = self._ordered(cells, stages, tiers)
        new_part, existing_target, split_note = planning.split_target(
            target_revenue, new_member_share, new_member_revenue, self._past_new_share(db, as_of, period.days, dates)
        )
        sq = planning.status_quo(cells)
        parsed = [parse_what_if(w, cfg, cells) for w in what_ifs]
        notes = [split_note, choice.reason]
        if as_of < period.start:
            notes.append(
                _(
                    "cells are the members at the as-of {as_of}; the period starts {days} days later (members "
                    "who join in between count as new members)",
                    as_of=as_of.isoformat(),
                    days=(period.start - as_of).days,
                )
            )
        db = self.wb.db()
        plan_id = f"P{self.wb.now():%Y%m%d}-{store.plan_count(db) + 1:03d}"
        result = PlanResult(
            plan_id, period, as_of, float(target_revenue), new_part, existing_target, choice, sq,
            existing_target - float(sq["revenue"]["value"]), planning.plan_cells(cells, existing_target),
            promotion_in(cfg.promotions, period, promotion), parsed, labels, tiers, notes, self.wb.now(),
        )  # fmt: skip
        body = result.to_dict() | ({"planner_file": str(planner_file), "planner_toml": text} if text else {})
        if parsed:  # a what-if whose stated change its measure cannot deliver is refused before anything is kept
            self._options(body)
        store.save_plan(db, body, result.created_at or self.wb.now())
        return result

    @staticmethod
    def _past_new_share(db: DuckDBEngine, as_of: dt.date, days: int, dates: set[dt.date]) -> float | None:
        """New members' share of member revenue in the period before `as_of` (None when unknown)."""
        past = matrix.past_periods(as_of, days, 1)[0]
        if past.start not in dates:
            return None
        existing = sum(c.revenue for c in store.cell_facts(db, past.start, past.start, past.end))
        total = store.member_revenue(db, past.start, past.end)
        return 1 - existing / total if total > 0 and existing > 0 else None

    @staticmethod
    def _check_target(target: float, share: float | None, new_revenue: float | None) -> None:
        if not target or target <= 0:
            raise InputError(
                _("--target-revenue must be a positive amount, got {v}", v=target),
                hint=_("For example --target-revenue 100000000 (yuan)."),
            )
        if share is not None and new_revenue is not None:
            raise InputError(
                _("give --new-member-share or --new-member-revenue, not both"),
                hint=_("The share is of the target; the revenue is in yuan."),
            )
        if share is not None and not 0 <= share < 1:
            raise InputError(
                _("--new-member-share must be in [0, 1), got {v}", v=share),
                hint=_("For example --new-member-share 0.3 (30 % from new members)."),
            )
        if new_revenue is not None and not 0 <= new_revenue < target:
            raise InputError(
                _("--new-member-revenue must be between 0 and the target, got {v}", v=new_revenue),
                hint=_("The existing members bring the rest of the target."),
            )

    @staticmethod
    def _ordered(cells: Sequence[CellEstimate], stages: Sequence[str], tiers: Sequence[str]) -> list[CellEstimate]:
        rs = {s: i for i, s in enumerate(stages)}
        rt = {t: i for i, t in enumerate(tiers)}
        return sorted(cells, key=lambda c: (rs.get(c.stage, len(rs)), rt.get(c.tier, len(rt)), c.tier))

    def _plan(self, plan_id: str) -> dict[str, Any]:
        body = store.plan_body(self.wb.db(write=False), plan_id)
        if body is None:
            known = store.plan_ids(self.wb.db(write=False))[:8]
            raise NotFoundError(
                _("there is no plan {plan_id}", plan_id=plan_id),
                hint=_("Plans: {known}. Make one with `winback plan create`.", known=", ".join(known) or "—"),
            )
        return body

    def plans(self, *, limit: int = 200) -> PlanList:
        """The kept plans, newest first, with their target, status quo, gap and latest solution's status."""
        rows = store.plan_list(self.wb.db(write=False), limit)
        return PlanList([PlanSummary(r["plan_id"], r["created_at"], Period(r["period_start"], r["period_end"]),
                                     r["as_of"], float(r["target_revenue"]), r["existing_target"],
                                     r["status_quo_revenue"], r["gap"], r["solved_at"], r["solution_status"],
                                     r["probability_of_target"]) for r in rows])  # fmt: skip

    def show(self, plan_id: str) -> PlanView:
        """A kept plan, its latest solution (None before `plan solve`), the stage and measure names."""
        body = self._plan(plan_id)
        from winback.planner.phases import relabel

        shown = {k: v for k, v in body.items() if k != "planner_toml"}
        solution = store.latest_solution(self.wb.db(write=False), plan_id)
        if solution is not None:  # the phase table's texts in the reader's language, not the solver's
            solution["phases"] = relabel(solution.get("phases", []), self.config(body).phases, self._lang())
        return PlanView(shown, solution, self._names(body))

    # -- measures and the solver ----------------------------------------------------------------------------------
    def _offers(self) -> tuple[dict[str, Offer], list[dict[str, Any]], float]:
        pb = self.wb.campaigns.playbook()
        window = int(pb.defaults.get("window_days", 14))
        offers = {
            sid: Offer(sc.offer.kind, float(sc.offer.value), float(sc.offer.threshold), sc.channel, window)
            for sid, sc in pb.scenarios.items()
        }
        return offers, list(pb.phases), float(pb.defaults.get("margin", 0.6))

    def _options(self, body: dict[str, Any]) -> list[Any]:
        from winback.planner.measures import WhatIf, check_what_if, options

        cells = [CellEstimate.from_dict(c) for c in body["cells"]]
        what_ifs = [WhatIf(**w) for w in body.get("what_ifs", [])]
        offers, _phases, _margin = self._offers()
        db = self.wb.db(write=False)
        measured = store.campaign_effects(db, self.wb.now())
        reach = store.reach(db, dt.date.fromisoformat(body["as_of"]))  # consents as they are now
        days = int(body["period"]["days"])
        opts = options(self.config(body), cells, offers, measured, days, what_ifs, self._lang(), reach)
        by_key = {(o.measure, o.stage, o.tier): o for o in opts}
        cell_of = {(c.stage, c.tier): c for c in cells}
        for w in what_ifs:
            found = by_key.get((w.measure, w.stage, w.tier))
            if found is None:
                raise InputError(
                    _(
                        "the measure {measure} reaches no member of {cell}: none can be contacted through its channel",
                        measure=w.measure,
                        cell=f"{w.stage}/{w.tier}",
                    ),
                    hint=_("Pick a measure with another channel, or collect the members' consent first."),
                )
            check_what_if(w, found, cell_of[(w.stage, w.tier)])
        return opts

    def solve(self, plan_id: str, *, budget: float | None = None, guide_hours: float | None = None) -> SolveResult:
        """The measures per cell that close the gap at the least cost (with `budget`: the most contribution within
        it), within the guide hours available; expected contribution, cost, incremental ROI, P(target)."""
        from winback.planner.phases import phase_table
        from winback.planner.solver import solve

        if budget is not None and budget < 0:
            raise InputError(
                _("--budget must not be negative, got {v}", v=budget), hint=_("For example --budget 200000.")
            )
        body = self._plan(plan_id)
        opts = self._options(body)
        cfg = self.config(body)
        hours = (
            guide_hours
            if guide_hours is not None
            else cfg.guide_hours_per_guide * store.guides(self.wb.db(write=False))
        )
        gap = float(body["gap"])
        choice = solve(opts, gap=gap, budget=budget, guide_hours=hours)
        _offers, pb_phases, margin = self._offers()
        fig = planning.solution_figures(body["status_quo"], float(body["existing_target"]), opts, choice, margin)
        chosen = fig.pop("chosen")
        phases = phase_table(cfg.phases, pb_phases, body.get("promotion"), chosen, self._lang())
        notes = planning.solve_notes(choice.status, gap, chosen, hours, margin)
        result = SolveResult(
            plan_id,
            "budget" if budget is not None else "close_gap",
            choice.status,
            gap,
            budget,
            hours,
            chosen,
            len(opts),
            fig["expected_contribution"],
            fig["incremental"],
            fig["cost"],
            fig["incremental_roi"],
            fig["probability_of_target"],
            phases,
            notes,
            self._names(body),
        )
        store.save_solution(
            self.wb.db(), plan_id, result.to_dict(), mode=result.mode, budget=budget, solved_at=self.wb.now()
        )
        return result

    def _names(self, body: dict[str, Any]) -> dict[str, dict[str, str]]:
        lang = self._lang()
        key = "en" if lang == "en" else "zh"
        return {
            "measures": {m.id: m.name(lang) for m in self.config(body).measures.values()},
            "stages": {s["stage"]: s.get(key, s["stage"]) for s in body.get("stages", [])},
        }

    # -- export and review ----------------------------------------------------------------------------------------
    def export(self, plan_id: str, out: Path) -> ExportResult:
        """The plan as a workbook for the HQ meeting: history, status quo, gap, measures, phase table."""
        from winback.planner.export import write_plan

        body = self._plan(plan_id)
        solution = store.latest_solution(self.wb.db(write=False), plan_id)
        if solution is None:
            raise InputError(
                _("plan {plan_id} has not been solved yet: the workbook needs its measures", plan_id=plan_id),
                hint=_("Run `winback plan solve {plan_id}` first.", plan_id=plan_id),
            )
        as_of = dt.date.fromisoformat(body["as_of"])
        history = self._history_if_any(as_of)
        names = {m.id: m.name(self._lang()) for m in self.config(body).measures.values()}
        sheets = write_plan(Path(out), body, solution, history, self._lang(), names)
        return ExportResult(plan_id, str(out), sheets)

    def _history_if_any(self, as_of: dt.date) -> HistoryResult | None:
        """The two years before the plan's as-of, when their snapshots exist (the workbook's first sheet)."""
        try:
            return self.history(years=2, as_of=as_of)
        except NotFoundError:
            return None

    def review(self, plan_id: str) -> ReviewResult:
        """Estimate vs target vs actual per cell (members as at the plan's as-of), once the period has data."""
        from winback.planner.review import review_cells

        body = self._plan(plan_id)
        db = self.wb.db(write=False)
        start = dt.date.fromisoformat(body["period"]["start"])
        end = dt.date.fromisoformat(body["period"]["end"]) + dt.timedelta(days=1)
        last = store.last_order_day(db)
        if last is None or last < start:
            raise InputError(
                _(
                    "plan {plan_id}'s period starts {start}; there are no orders in it yet",
                    plan_id=plan_id,
                    start=start.isoformat(),
                ),
                hint=_("Import the period's orders, then run the review again."),
            )
        as_of = dt.date.fromisoformat(body["as_of"])
        actual = store.cell_facts(db, as_of, start, end)
        solution = store.latest_solution(db, plan_id) or {}
        inc: dict[tuple[str, str], float] = {}
        for o in solution.get("chosen", []):
            inc[(o["stage"], o["tier"])] = inc.get((o["stage"], o["tier"]), 0.0) + float(o["gain"] or 0)
        rows, total = review_cells(body["cells"], actual, inc)
        complete = last >= end - dt.timedelta(days=1)
        notes = (
            []
            if complete
            else [
                _(
                    "the period is not over: orders up to {last} ({share:.0%} of its days)",
                    last=last.isoformat(),
                    share=((last - start).days + 1) / max((end - start).days, 1),
                )
            ]
        )
        period = Period(start, end)
        return ReviewResult(plan_id, period, last, complete, rows, total, notes, self._names(body)["stages"])
