"""`TaskService(wb)` (guide tasks: list, export a task sheet, import it back, record one outcome, targets per store,
escalate overdue tasks) and `StaffService(wb)` (the leaderboard). Thin orchestrators over store_tasks /
store_staff and the pure modules tasks / leaderboard; typed results in tasks_types.

The scenario KPIs that decide which targets a campaign has live in the campaigns room, which outreach may not
import: the app passes a `kpis_of(scenario_id)` function in (app.py), and without one every metric is targeted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.common.masking import mask_phone
from winback.errors import InputError, NotFoundError, WinbackError
from winback.i18n import N_, _, t
from winback.outreach import leaderboard as lb
from winback.outreach import store_staff, store_tasks, tasks_xlsx
from winback.outreach import tasks as tk
from winback.outreach.tasks_types import (
    DoneResult,
    EscalateResult,
    ExportResult,
    Funnel,
    FunnelArm,
    GuideRank,
    ImportResult,
    Leaderboard,
    RejectedRow,
    StoreTargets,
    TargetsResult,
    TaskList,
    TaskRow,
)

if TYPE_CHECKING:
    from winback.app import Winback

TARGET_RULE = N_(
    "deal target = the sum of the store's treated members' planned purchase rates (rounded up); visit target = "
    "deals / 0.5; invitation target = visits / 0.5; HQ may override with --set. A deal is a task recorded "
    "'purchased' or a paid order in the response window."
)


class TaskService:
    def __init__(self, wb: Winback, kpis_of: Callable[[str], Sequence[str]] | None = None) -> None:
        self.wb = wb
        self._kpis_of = kpis_of

    # -- reading ---------------------------------------------------------------------------------------------
    def list(
        self,
        *,
        campaign: str | None = None,
        store: str | None = None,
        guide: str | None = None,
        status: str | None = None,
        limit: int | None = 50,
    ) -> TaskList:
        """Tasks by store, guide (a manager also sees what was escalated to her), campaign and status."""
        db, now = self.wb.db(write=False), self.wb.now()
        status = tk.check_status(status)
        store_id, guide_id = self._store_id(store), self._guide_id(guide)
        total, rows = store_tasks.list_tasks(
            db, campaign_id=campaign, store_id=store_id, guide_id=guide_id, status=status, now=now, limit=limit
        )
        filters = {"campaign": campaign, "store": store, "guide": guide, "status": status}
        return TaskList(total, len(rows), filters, [_task_row(r, now) for r in rows])

    def export(
        self,
        out: Path | str,
        *,
        campaign: str | None = None,
        store: str | None = None,
        guide: str | None = None,
        status: str | None = None,
    ) -> ExportResult:
        """A task sheet (XLSX): one worksheet per store and guide with the member cards and outcome columns.
        Without --status every task but the skipped ones."""
        db, now, lang = self.wb.db(write=False), self.wb.now(), self.wb.settings.lang
        status = tk.check_status(status)
        store_id, guide_id = self._store_id(store), self._guide_id(guide)
        rows = store_tasks.sheet_rows(
            db, campaign_id=campaign, store_id=store_id, guide_id=guide_id, status=status, now=now
        )
        rows = [r for r in rows if status or r["status"] != "skipped"]
        if not rows:
            raise NotFoundError(
                _("no task matches: nothing to export"),
                hint=_("See `winback tasks list` (and launch a campaign first: `winback campaign launch ID`)."),
            )
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            card = _card(r, lang)
            groups[(card["store"], card["guide"])].append(card)
        path = Path(out)
        sheets = tasks_xlsx.write_workbook(path, [(s, g, rs) for (s, g), rs in groups.items()], lang, now)
        return ExportResult(str(path), len(rows), sheets, len({s for s, _g in groups}), len(groups))

    # -- writing ---------------------------------------------------------------------------------------------
    def done(self, task_id: str, outcome: str, *, note: str | None = None, who: str | None = None) -> DoneResult:
        """Record one outcome of one task (idempotent: the same outcome again changes nothing)."""
        code = tk.check_outcome(outcome)
        db, now = self.wb.db(), self.wb.now()
        state = store_tasks.task_states(db, [task_id]).get(task_id)
        if state is None:
            raise NotFoundError(
                _("no task {task_id!r}", task_id=task_id),
                hint=_("Task ids look like C0001:M000123; see `winback tasks list`."),
            )
        if state.status == "skipped" or state.campaign_status == "closed":
            raise InputError(
                _("task {task_id} belongs to a closed campaign (its status is {status})", task_id=task_id,
                  status=tk.label(state.status, self.wb.settings.lang)),
                hint=_("Outcomes are recorded for running campaigns only."),
            )  # fmt: skip
        rec = tk.OutcomeRecord(task_id, code, note, who, now, "cli")
        if (task_id, code) in store_tasks.recorded_outcomes(db, [task_id]):
            return DoneResult(task_id, code, state.status, state.outcome, False, False)
        finals = list(tk.final_outcomes([rec], {task_id: state.outcome}).values())
        _added, changed = store_tasks.record_outcomes(db, [rec], finals, now)
        after = store_tasks.task_states(db, [task_id])[task_id]
        return DoneResult(task_id, code, after.status, after.outcome, True, bool(changed))

    def import_sheet(self, path: Path | str) -> ImportResult:
        """Read a filled-in task sheet back: every row with an outcome is recorded once; bad rows are rejected
        with the reason and the rest still go in (in one transaction)."""
        p = Path(path)
        db, now, lang = self.wb.db(), self.wb.now(), self.wb.settings.lang
        cells = list(tasks_xlsx.read_workbook(p))
        ids = [str(c.get("task_id")).strip() for _s, _r, c in cells if c.get("task_id")]
        states = store_tasks.task_states(db, ids)
        source = f"import:{p.name}"
        good: list[tk.OutcomeRecord] = []
        rejected: list[RejectedRow] = []
        rows = 0
        for sheet, row, c in cells:
            checked = tk.check_row(sheet, row, c, states, now=now, source=source)
            if checked is None:
                continue
            rows += 1
            if isinstance(checked, tk.Rejected):
                rejected.append(RejectedRow(checked.sheet, checked.row, checked.task_id, checked.reason(lang)))
            else:
                good.append(checked)
        merged = tk.merge_records(good)
        seen = store_tasks.recorded_outcomes(db, [r.task_id for r in merged])
        new = [r for r in merged if (r.task_id, r.outcome) not in seen]
        finals = tk.final_outcomes(new, {t: s.outcome for t, s in states.items()})
        added, changed = store_tasks.record_outcomes(db, new, list(finals.values()), now)
        return ImportResult(str(p), rows, added, rows - len(rejected) - added, changed, rejected)

    def escalate(self, *, now: dt.datetime | None = None) -> EscalateResult:
        """Overdue open tasks (and tasks without a guide) of running campaigns go to their store's manager, once."""
        db, now = self.wb.db(), now or self.wb.now()
        rows = store_tasks.escalate_overdue(db, now)
        names = store_staff.staff_names(db)
        count = Counter((r["store_id"], r["escalated_to"]) for r in rows)
        by = [
            {
                "store_id": s,
                "manager_id": m,
                "manager": (names.get(m, (None, None, ""))[0] if m else None) or tk.label("hq", self.wb.settings.lang),
                "tasks": n,
            }
            for (s, m), n in sorted(count.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))
        ]
        return EscalateResult(now, len(rows), by)

    # -- targets ---------------------------------------------------------------------------------------------
    def targets(self, campaign_id: str, *, store: str | None = None, set_pairs: Sequence[str] = ()) -> TargetsResult:
        """Per store: invitation / visit / deal targets (the scenario's KPIs decide which) and their completion."""
        settings = tk.check_target_settings(set_pairs)
        db = self.wb.db(write=bool(settings))
        c = self._launched(db, campaign_id)
        store_id = self._store_id(store)
        if settings:
            if store_id is None:
                raise InputError(_("--set needs --store: targets are per store"), hint=_("Add --store ID_OR_NAME."))
            rows = [(store_id, m, v) for m, v in settings.items()]
            store_tasks.write_targets(db, campaign_id, rows, source="set", now=self.wb.now())
        metrics = tk.target_metrics(self._kpis(c["scenario"]))
        plan = _planned_deals(store_tasks.store_segments(db, campaign_id), tk.segment_rates(c["preview"]))
        stored = store_tasks.stored_targets(db, campaign_id)
        out = []
        for p in store_tasks.store_progress(db, campaign_id):
            if store_id is not None and p["store_id"] != store_id:
                continue
            targets = tk.default_targets(plan.get(p["store_id"], 0.0), metrics)
            targets.update({m: stored[(p["store_id"], m)][0] for m in metrics if (p["store_id"], m) in stored})
            out.append(_store_targets(p, metrics, targets))
        total = _store_targets(_sum_progress(out), metrics, _sum_targets(out, metrics))
        lang = self.wb.settings.lang
        return TargetsResult(campaign_id, c["name"], c["scenario"], metrics, t(TARGET_RULE, lang), out, total)

    def funnel(self, campaign_id: str) -> Funnel:
        """Per arm, members at each node: ledger (queued, sent, delivered, failed, skipped), clicks, guide tasks
        (contacted, invited, visited) and purchases in the response window."""
        db, lang = self.wb.db(write=False), self.wb.settings.lang
        c = self._launched(db, campaign_id)
        arms = []
        for r in store_tasks.funnel_rows(db, campaign_id):
            stages = {k: int(r[k]) for k in tk.FUNNEL_STAGES}
            arms.append(
                FunnelArm(
                    r["arm"],
                    int(r["members"]),
                    stages,
                    tk.funnel_rates(int(r["members"]), stages),
                    round(float(r["revenue"]), 2),
                    int(r["link_clicks"]),
                )
            )
        start = dt.datetime.combine(c["launched_at"].date(), dt.time())
        window = [start, start + dt.timedelta(days=int(c["window_days"]))]
        definitions = {k: t(v, lang) for k, v in tk.FUNNEL_DEFINITIONS.items()}
        return Funnel(campaign_id, c["name"], window, list(tk.FUNNEL_STAGES), definitions, arms)

    def _launched(self, db: Any, campaign_id: str) -> dict[str, Any]:
        c = store_tasks.campaign_row(db, campaign_id)
        if c is None:
            raise NotFoundError(
                _("no campaign {campaign_id!r}", campaign_id=campaign_id), hint=_("See `winback campaign list`.")
            )
        if c["status"] == "draft":
            raise InputError(
                _("campaign {campaign_id} is a draft: it has no tasks yet", campaign_id=campaign_id),
                hint=_("Launch it first: winback campaign launch {campaign_id}.", campaign_id=campaign_id),
            )
        return c

    # -- helpers ---------------------------------------------------------------------------------------------
    def _kpis(self, scenario: str) -> Sequence[str] | None:
        if self._kpis_of is None:
            return None
        try:
            return self._kpis_of(scenario)
        except WinbackError:
            return None

    def _store_id(self, text: str | None) -> str | None:
        return resolve_store(self.wb, text)

    def _guide_id(self, text: str | None) -> str | None:
        return resolve_guide(self.wb, text)


class StaffService:
    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    def leaderboard(self, *, store: str | None = None, period: str | None = None) -> Leaderboard:
        """Per guide: tasks, contacts, invited, visited, purchased, revenue and incremental reactivations against
        the guide's own control members (95 % interval), ranked by the shrunk uplift (leaderboard.RULE). The
        prior is the whole brand's, so a store's view shows the same scores as the brand's, for its own guides."""
        db, lang = self.wb.db(write=False), self.wb.settings.lang
        start, end, label = lb.parse_period(period, self.wb.now().date())
        store_id = resolve_store(self.wb, store)
        cells = store_staff.guide_cells(db, start, end)
        activity = {r["guide_id"]: r for r in store_staff.guide_tasks(db, start, end)}
        names = store_staff.staff_names(db)
        by_guide: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in cells:
            by_guide[r["guide_id"]].append(r)
        estimates = {
            g: lb.estimate(g, [lb.Cell(g, r["n_treated"], r["x_treated"], r["n_control"], r["x_control"]) for r in rs])
            for g, rs in by_guide.items()
        }
        prior = lb.prior(list(estimates.values()))
        ranked = []
        for g, rs in by_guide.items():
            name, store_name, home = names.get(g, (None, None, ""))
            if store_id is not None and home != store_id:
                continue
            e, s = estimates[g], lb.shrink(estimates[g], prior)
            act = activity.get(g, {})
            ranked.append((lb.rank_key(s, e, int(act.get("tasks", 0)), name or g), g, e, s, rs, act, name, store_name))
        ranked.sort(key=lambda x: x[0])
        guides = [
            _guide_rank(i, g, e, s, rs, act, name, sname, lang)
            for i, (_k, g, e, s, rs, act, name, sname) in enumerate(ranked, start=1)
        ]
        return Leaderboard(
            period={"label": label, "start": start, "end": end - dt.timedelta(days=1)},
            store=store,
            campaigns=store_staff.period_campaigns(db, start, end),
            rule=t(lb.RULE, lang),
            prior={"pooled_uplift": prior.mean, "tau2": prior.tau2, "guides_with_estimate": prior.guides},
            guides=guides,
        )


# -- shared helpers ------------------------------------------------------------------------------------------
def resolve_store(wb: Winback, text: str | None) -> str | None:
    """A store given by id or name -> its id ('' for "no store"); None when not given."""
    if text is None:
        return None
    if text.strip() in ("", "-", t(tk.LABELS["no_store"], "zh"), tk.LABELS["no_store"]):
        return ""
    found = store_tasks.find_stores(wb.db(write=False), text.strip())
    if not found:
        raise NotFoundError(
            _("no store {text!r} (by id or name)", text=text), hint=_("Stores are listed by `winback quality`.")
        )
    if len(found) > 1:
        raise InputError(
            _("{n} stores are called {text!r}", n=len(found), text=text),
            hint=_("Give the id: {ids}.", ids=", ".join(s for s, _name in found)),
        )
    return found[0][0]


def resolve_guide(wb: Winback, text: str | None) -> str | None:
    """A guide given by id or name -> her id ('' for tasks without a guide); None when not given."""
    if text is None:
        return None
    if text.strip() in ("", "-", t(tk.LABELS["unassigned"], "zh"), tk.LABELS["unassigned"], "未分配导购"):
        return ""
    found = store_tasks.find_staff(wb.db(write=False), text.strip())
    if not found:
        raise NotFoundError(
            _("no guide {text!r} (by id or name)", text=text), hint=_("See `winback staff leaderboard` for names.")
        )
    if len(found) > 1:
        which = ", ".join(f"{g} ({s or '—'})" for g, _n, s in found)
        raise InputError(
            _("{n} staff are called {text!r}", n=len(found), text=text), hint=_("Give the id: {ids}.", ids=which)
        )
    return found[0][0]


def _task_row(r: dict[str, Any], now: dt.datetime) -> TaskRow:
    return TaskRow(
        **{k: r[k] for k in TaskRow.__dataclass_fields__ if k != "overdue"},
        overdue=tk.is_overdue(r["status"], r["due_at"], now),
    )


def _display_code(code: str | None) -> str | None:
    return None if not code else "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _card(r: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        "task_id": r["task_id"],
        "campaign": r["campaign_name"] or r["campaign_id"],
        "store": r["store_name"] or r["store_id"] or tk.label("no_store", lang),
        "guide": r["guide_name"] or r["guide_id"] or tk.label("unassigned", lang),
        "priority": r["priority"],
        "member": r["member_name"],
        "phone": mask_phone(r["phone"]),
        "tier": r["tier"],
        "last_purchase": r["last_purchase"],
        "last_items": r["last_items"],
        "favourite": r["favourite"],
        "cycle_days": None if r["cycle_days"] is None else round(float(r["cycle_days"])),
        "coupon": _display_code(r["coupon_code"]),
        "script": r["script"],
        "due": r["due_at"].date() if r["due_at"] else None,
        "outcome": tk.label(r["outcome"], lang) if r["outcome"] else None,
        "note": r["note"],
        "who": r["outcome_by"],
        "when": r["completed_at"].date() if r["completed_at"] else None,
    }


def _planned_deals(
    segments: Sequence[tuple[str, str | None, str | None, int]], rates: dict[str, float]
) -> dict[str, float]:
    fallback = sum(rates.values()) / len(rates) if rates else 0.0
    out: dict[str, float] = defaultdict(float)
    for store_id, _sn, segment, n in segments:
        out[store_id] += n * rates.get(str(segment), fallback)
    return out


def _store_targets(p: dict[str, Any], metrics: Sequence[str], targets: dict[str, int]) -> StoreTargets:
    done = {m: int(p[m]) for m in metrics}
    return StoreTargets(
        store_id=p["store_id"],
        store_name=p["store_name"],
        tasks=int(p["tasks"]),
        open=int(p["open"]),
        escalated=int(p["escalated"]),
        contacted=int(p["contacted"]),
        done=done,
        targets=targets,
        completion={m: tk.completion(done[m], targets.get(m)) for m in metrics},
    )


def _sum_progress(rows: Sequence[StoreTargets]) -> dict[str, Any]:
    out: dict[str, Any] = {"store_id": "*", "store_name": None}
    for k in ("tasks", "open", "escalated", "contacted"):
        out[k] = sum(getattr(r, k) for r in rows)
    for m in tk.METRICS:
        out[m] = sum(r.done.get(m, 0) for r in rows)
    return out


def _sum_targets(rows: Sequence[StoreTargets], metrics: Sequence[str]) -> dict[str, int]:
    return {m: sum(r.targets.get(m, 0) for r in rows) for m in metrics}


def _guide_rank(
    i: int,
    g: str,
    e: lb.Estimate,
    s: lb.Shrunk,
    cells: Sequence[dict[str, Any]],
    act: dict[str, Any],
    name: str | None,
    store_name: str | None,
    lang: str,
) -> GuideRank:
    lo, hi = e.interval()
    return GuideRank(
        rank=i,
        guide_id=g,
        guide=name or g,
        store=store_name or tk.label("no_store", lang),
        tasks=int(act.get("tasks", 0)),
        contacts=int(act.get("contacts", 0)),
        invited=int(act.get("invited", 0)),
        visited=int(act.get("visited", 0)),
        purchased=sum(int(r["x_treated"]) for r in cells),
        revenue=round(sum(float(r["revenue"]) for r in cells), 2),
        control_members=sum(int(r["n_control"]) for r in cells),
        incremental=e.incremental,
        incremental_ci=[lo, hi],
        uplift=e.uplift,
        shrunk_uplift=s.score,
        shrunk_ci=[s.low, s.high],
        weight=s.weight,
    )
