"""Guide tasks and their outcomes, the decisions. Pure: store_tasks reads and writes, task_service orchestrates.

Outcomes. A guide records what happened with a task: contacted | invited | visited | purchased | unreachable |
declined. A task's outcome is the furthest funnel stage recorded — unreachable (0) < contacted = declined (1) <
invited (2) < visited (3) < purchased (4) — so a later "invited" does not undo a "visited", and an equal rank
(declined after contacted) takes the later one. `unreachable` marks the task failed, every other outcome done (the
member was reached: the campaign report counts them as contacted). Every outcome is kept once in task_outcomes.

Targets. Per store, HQ follows invitation, visit and deal targets (seed 000: 邀约目标/到店目标/成交人数目标). The
metrics a campaign gets come from its scenario's KPIs (invited; visited or visit_rate; purchased); the default
numbers from the campaign's own plan: deals = the expected responders of the store's treated members (the
preview's response rate of each member's segment), visits = deals / CLOSE_RATE, invitations = visits /
SHOW_RATE, each rounded up. HQ may set any of them (`winback tasks targets … --set invited=40`).

Escalation. An open task whose due time has passed goes to its store's manager (staff role 店长 / store_manager)
once; a task without a guide goes to the manager straight away (the manager assigns one).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from winback.errors import InputError
from winback.i18n import N_, _, t

OUTCOMES = ("contacted", "invited", "visited", "purchased", "unreachable", "declined")
RANK = {"unreachable": 0, "contacted": 1, "declined": 1, "invited": 2, "visited": 3, "purchased": 4}
STATUSES = ("open", "done", "failed", "skipped", "overdue")
METRICS = ("invited", "visited", "purchased")
#: a KPI of the scenario playbook -> the target metric it asks for
KPI_METRIC = {"invited": "invited", "visited": "visited", "visit_rate": "visited", "purchased": "purchased"}
#: visit -> deal and invitation -> visit planning rates (seed 001: an existing customer buys about half the time)
CLOSE_RATE = 0.5
SHOW_RATE = 0.5
MANAGER_ROLES = ("店长", "store_manager", "manager")

#: every user-facing word of the task sheet and the commands (msgids; zh in i18n/zh/outreach.po)
LABELS = {
    "contacted": N_("Contacted"),
    "invited": N_("Invited"),
    "visited": N_("Visited"),
    "purchased": N_("Purchased"),
    "unreachable": N_("Unreachable"),
    "declined": N_("Declined"),
    "open": N_("Open"),
    "done": N_("Done"),
    "failed": N_("Not reached"),
    "skipped": N_("Skipped"),
    "overdue": N_("Overdue"),
    "unassigned": N_("No guide"),
    "no_store": N_("No store"),
    "hq": N_("HQ"),
}
#: the Chinese words of earlier task sheets, still read back
LEGACY = {
    "婉拒": "declined",
    "已联系": "contacted",
    "已邀约": "invited",
    "已到店": "visited",
    "已成交": "purchased",
    "联系不上": "unreachable",
}


def label(key: str, lang: str) -> str:
    return t(LABELS[key], lang) if key in LABELS else key


def parse_outcome(text: object) -> str | None:
    """The outcome code for a cell: the code (any case) or its Chinese label; None for anything else."""
    if text is None:
        return None
    s = str(text).strip()
    if s.lower() in RANK:
        return s.lower()
    for code in OUTCOMES:
        if s in (t(LABELS[code], "zh"), t(LABELS[code], "en")):
            return code
    return LEGACY.get(s)


def check_outcome(outcome: str) -> str:
    code = parse_outcome(outcome)
    if code is None:
        raise InputError(
            _("unknown outcome {outcome!r}", outcome=outcome),
            hint=_(
                "Use one of {codes} (in Chinese: {words}).",
                codes=", ".join(OUTCOMES),
                words="、".join(t(LABELS[o], "zh") for o in OUTCOMES),
            ),
        )
    return code


def check_status(status: str | None) -> str | None:
    if status is None:
        return None
    s = status.strip().lower()
    if s not in STATUSES:
        raise InputError(
            _("unknown task status {status!r}", status=status), hint=_("Use one of {kinds}.", kinds=", ".join(STATUSES))
        )
    return s


def status_of(outcome: str) -> str:
    return "failed" if outcome == "unreachable" else "done"


def supersedes(new: str, current: str | None) -> bool:
    """Whether recording `new` changes a task whose outcome is `current` (the furthest stage wins, ties: later)."""
    return current is None or RANK[new] >= RANK.get(current, -1)


@dataclass(frozen=True)
class OutcomeRecord:
    """One outcome to record: from `tasks done` or a row of an imported sheet."""

    task_id: str
    outcome: str
    note: str | None
    recorded_by: str | None
    recorded_at: dt.datetime
    source: str


@dataclass(frozen=True)
class TaskState:
    task_id: str
    status: str
    outcome: str | None
    campaign_status: str


@dataclass(frozen=True)
class Rejected:
    sheet: str
    row: int
    task_id: str | None
    reason_zh: str
    reason_en: str

    def reason(self, lang: str) -> str:
        return self.reason_zh if lang == "zh" else self.reason_en


def parse_when(value: object, default: dt.datetime) -> dt.datetime | None:
    """A sheet's date cell (a datetime, a date or YYYY-MM-DD[ HH:MM]) or `default` when empty; None if unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    try:
        return dt.datetime.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError:
        return None


def _reject(sheet: str, row: int, task_id: str | None, zh: str, en: str) -> Rejected:
    return Rejected(sheet, row, task_id, zh, en)


def check_row(
    sheet: str,
    row: int,
    cells: Mapping[str, object],
    states: Mapping[str, TaskState],
    *,
    now: dt.datetime,
    source: str,
) -> OutcomeRecord | Rejected | None:
    """One data row of a filled-in sheet: None when its outcome is empty (not done yet), else the record to store
    or why it is rejected."""
    task_id = str(cells.get("task_id") or "").strip() or None
    raw = cells.get("outcome")
    if raw is None or not str(raw).strip():
        return None
    if task_id is None:
        return _reject(sheet, row, None, "缺少任务号", "no task id")
    state = states.get(task_id)
    if state is None:
        return _reject(sheet, row, task_id, "没有这个任务号", "no such task")
    outcome = parse_outcome(raw)
    if outcome is None:
        return _reject(
            sheet, row, task_id, f"结果 {raw!r} 不是可选值之一", f"outcome {raw!r} is not one of {', '.join(OUTCOMES)}"
        )
    if state.status == "skipped" or state.campaign_status == "closed":
        return _reject(sheet, row, task_id, "活动已结束，任务已跳过", "the campaign is closed: the task was skipped")
    when = parse_when(cells.get("when"), now)
    if when is None:
        return _reject(
            sheet, row, task_id, f"日期 {cells.get('when')!r} 无法识别", f"date {cells.get('when')!r} unreadable"
        )
    if when > now:
        return _reject(sheet, row, task_id, f"日期 {when:%Y-%m-%d} 在未来", f"date {when:%Y-%m-%d} is in the future")
    note = str(cells["note"]).strip() if cells.get("note") not in (None, "") else None
    who = str(cells["who"]).strip() if cells.get("who") not in (None, "") else None
    return OutcomeRecord(task_id, outcome, note, who, when, source)


def merge_records(records: Iterable[OutcomeRecord]) -> list[OutcomeRecord]:
    """One record per (task, outcome): a sheet naming a task twice keeps the later row."""
    out: dict[tuple[str, str], OutcomeRecord] = {}
    for r in records:
        out[(r.task_id, r.outcome)] = r
    return list(out.values())


def final_outcomes(records: Sequence[OutcomeRecord], current: Mapping[str, str | None]) -> dict[str, OutcomeRecord]:
    """Per task, the record that becomes the task's outcome (the furthest stage; ties: the latest), or none."""
    best: dict[str, OutcomeRecord] = {}
    for r in sorted(records, key=lambda r: (RANK[r.outcome], r.recorded_at)):
        cur = best[r.task_id].outcome if r.task_id in best else current.get(r.task_id)
        if supersedes(r.outcome, cur):
            best[r.task_id] = r
    return best


# -- targets ---------------------------------------------------------------------------------------------------
def target_metrics(kpis: Sequence[str] | None) -> list[str]:
    """The target metrics a scenario's KPIs ask for (all three when the scenario names none of them)."""
    wanted = {KPI_METRIC[k] for k in (kpis or ()) if k in KPI_METRIC}
    return [m for m in METRICS if m in wanted] or list(METRICS)


def default_targets(expected_deals: float, metrics: Sequence[str]) -> dict[str, int]:
    """Deals = expected responders (rounded up), visits = deals / CLOSE_RATE, invitations = visits / SHOW_RATE."""
    deals = expected_deals
    visits = deals / CLOSE_RATE
    invites = visits / SHOW_RATE
    value = {"purchased": deals, "visited": visits, "invited": invites}
    return {m: math.ceil(round(value[m], 9)) for m in metrics}


def segment_rates(preview: Mapping[str, object] | None) -> dict[str, float]:
    """Planned response rate per segment from a campaign's stored preview (empty when it has none)."""
    expected = (preview or {}).get("expected")
    rows = expected.get("by_segment", []) if isinstance(expected, Mapping) else []
    return {str(r["segment"]): float(r["response_rate"]) for r in rows if r.get("response_rate") is not None}


def completion(done: int, target: int | None) -> float | None:
    return None if not target else done / target


def check_target_settings(pairs: Sequence[str]) -> dict[str, int]:
    """`--set invited=40 --set purchased=12` -> {metric: target}."""
    out: dict[str, int] = {}
    for p in pairs:
        metric, sep, value = p.partition("=")
        metric = metric.strip().lower()
        if not sep or metric not in METRICS or not value.strip().isdigit():
            raise InputError(
                _("cannot read target {value!r}", value=p),
                hint=_(
                    "Write METRIC=N with METRIC one of {metrics}, e.g. --set invited=40.", metrics=", ".join(METRICS)
                ),
            )
        out[metric] = int(value)
    return out


# -- the funnel -------------------------------------------------------------------------------------------------
FUNNEL_STAGES = (
    "queued",
    "sent",
    "delivered",
    "failed",
    "skipped",
    "clicked",
    "tasks",
    "contacted",
    "invited",
    "visited",
    "purchased",
)
FUNNEL_DEFINITIONS = {  # stage -> msgid
    "queued": N_("a touch is in the ledger"),
    "sent": N_("a touch was sent (sent or delivered)"),
    "delivered": N_("a receipt says it arrived"),
    "failed": N_("a touch failed"),
    "skipped": N_("a touch was skipped (opt-out, quiet hours, caps)"),
    "clicked": N_("a click event in the response window, or a click on the member's short link"),
    "tasks": N_("has a guide task"),
    "contacted": N_("the guide task is done (reached)"),
    "invited": N_("the guide recorded invited or further"),
    "visited": N_("the guide recorded a visit, or a visit event in the window"),
    "purchased": N_("a paid order in the response window"),
}


def funnel_rates(members: int, stages: Mapping[str, int]) -> dict[str, float | None]:
    return {k: (v / members if members else None) for k, v in stages.items()}


# -- escalation ------------------------------------------------------------------------------------------------
def is_overdue(status: str, due_at: dt.datetime | None, now: dt.datetime) -> bool:
    return status == "open" and due_at is not None and due_at < now
