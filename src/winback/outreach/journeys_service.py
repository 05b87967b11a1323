"""`JourneyService(wb, launch=…, refresh=…)`: `winback run [--date D]`, a day's work.

1. refresh the snapshot (as of the day) if an import finished after the last refresh;
2. enrol every enabled journey not run for the day yet: its scenario's audience becomes that day's campaign,
   launched (own holdout, coupons, guide tasks, touches), recorded in journey_runs — a second run of the day finds
   the row and creates nothing; skipped days are covered once;
   a rung whose finished campaigns show an incremental margin below zero with one-sided 95 % evidence pauses
   itself (journeys.pause_rule) and says so;
3. escalate overdue guide tasks (and new tasks without a guide) to the store managers;
4. dispatch what is due when a channels file is set.

Campaigns and the lifecycle are other rooms, which outreach may not import: the app passes `launch(scenario, name,
now) -> (campaign id, members, tasks, touches)` and `refresh(as_of, prepare)` in (app.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from winback.errors import WinbackError
from winback.outreach import journeys_everyday, store_journeys
from winback.outreach.journeys import ArmSums, Journey, JourneyRules, covers_from, load_rules, pause_rule, run_moment
from winback.outreach.journeys import note as _say
from winback.outreach.journeys_types import JourneyDay, RunResult

if TYPE_CHECKING:
    from winback.app import Winback

Launch = Callable[[str, str, dt.datetime], tuple[str | None, int, int, int]]


class JourneyService:
    def __init__(self, wb: Winback, *, launch: Launch, refresh: Callable[[dt.date, bool], object]) -> None:
        self.wb = wb
        self._launch = launch
        self._refresh = refresh

    def rules(self) -> JourneyRules:
        return load_rules()

    def journeys(self) -> list[Journey]:
        return self.rules().journeys

    def run(self, day: dt.date | None = None, *, prepare: bool = False) -> RunResult:
        """Do the day's work (today by default); running the same day again creates nothing. `prepare`: a refresh
        also sums what the console's pages read (LifecycleService.refresh)."""
        now = self.wb.now()
        day = day or now.date()
        at = run_moment(day, now)
        db = self.wb.db()
        before = store_journeys.ledger_counts(db)
        refreshed = store_journeys.new_data_since_refresh(db)
        if refreshed:
            self._refresh(day, prepare)
        last = store_journeys.last_days(self.wb.db())
        rules = self.rules()
        done = [self._enrol(j, rules, day, at, last.get(j.id)) for j in rules.journeys if j.enabled]
        escalated = self.wb.tasks.escalate(now=at).escalated  # after enrolling: a new guideless task goes at once
        dispatch, notes = None, []
        if self.wb.settings.channels:
            dispatch = self.wb.outreach.dispatch().to_dict()
        else:
            notes.append(_say(self.wb.settings.lang, "no_channels"))
        after = store_journeys.ledger_counts(self.wb.db())
        return RunResult(
            day, at, refreshed, escalated, done, dispatch, after[0] - before[0], after[1] - before[1], notes
        )

    def _enrol(
        self, j: Journey, rules: JourneyRules, day: dt.date, at: dt.datetime, last: dt.date | None
    ) -> JourneyDay:
        lang = self.wb.settings.lang
        start = covers_from(last, day)
        if start is None:
            return JourneyDay(
                j.id, j.name(lang), j.scenario, "covered", [day, day], None, 0, 0, 0, f"{_say(lang, 'covered')} {last}"
            )
        status, note, launched = self._launch_day(j, rules, start, day, at)
        cid, members, tasks, touches = launched
        row = {
            "journey_id": j.id,
            "day": day,
            "covers_from": start,
            "campaign_id": cid,
            "members": members,
            "tasks": tasks,
            "touches": touches,
            "note": note,
            "ran_at": at,
        }
        if status != "failed":
            store_journeys.record_run(self.wb.db(), row)
        return JourneyDay(j.id, j.name(lang), j.scenario, status, [start, day], cid, members, tasks, touches, note)

    def _launch_day(
        self, j: Journey, rules: JourneyRules, start: dt.date, day: dt.date, at: dt.datetime
    ) -> tuple[str, str | None, tuple[str | None, int, int, int]]:
        """(status, note, (campaign id, members, tasks, touches)) of the journey's launch for the day."""
        lang, nothing = self.wb.settings.lang, (None, 0, 0, 0)
        pause = pause_rule(_finished(store_journeys.finished_arms(self.wb.db(), j.id, at)))
        if pause.paused:
            return "paused", pause.say(lang), nothing
        announced = ""
        if j.kind != "scenario":
            wrong = journeys_everyday.check_scenario(j, self.wb.settings.scenarios)
            if wrong:
                return "failed", wrong, nothing
            enrolled, announced = journeys_everyday.enrol(self.wb.db(), j, rules, start, day)
            if not enrolled:
                return "nobody_due", _say(lang, "nobody"), nothing
        try:
            launched = self._launch(j.scenario, f"{j.name(lang)} {day:%Y-%m-%d}", at)
        except WinbackError as exc:
            return "failed", exc.message, nothing
        if not launched[1]:
            return "nobody_due", _say(lang, "nobody"), launched
        return "launched", announced or None, launched


def _finished(rows: list[dict[str, Any]]) -> list[tuple[ArmSums, ArmSums, float, float]]:
    """(treated, control, margin, cost per contact) per finished campaign from store_journeys.finished_arms."""
    by: dict[str, dict[bool, dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["campaign_id"], {})[bool(r["control"])] = r
    out = []
    for arms in by.values():
        t, c = arms.get(False), arms.get(True)
        if t is None or c is None:
            continue
        sums = [
            ArmSums(int(a["n"]), float(a["revenue"]), float(a["revenue_sq"]), float(a["discounts"])) for a in (t, c)
        ]
        out.append((sums[0], sums[1], float(t["margin"]), float(t["cost_per_contact"])))
    return out
