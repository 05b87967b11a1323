"""`CampaignService(wb)`: create (draft + preview), launch, list, show, close, report, the playbook, measure.

A thin orchestrator: each method reads through the store, decides with the pure modules (request, audience,
preview, launch, report), writes through the store and returns a typed result (campaigns.types). Time comes from
`wb.now()` (a `now` argument overrides it, for replays and tests), the language and the scenarios file from
`wb.settings`. The modules that need numpy or scipy (preview, launch, report, measure) are imported by the methods
that use them, so listing or showing campaigns loads neither.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from winback.campaigns import store, store_report
from winback.campaigns.audience import Audience
from winback.campaigns.outcomes import past_redemption_rate, past_response_rates
from winback.campaigns.request import check_request, check_stores, frequency_cap_days
from winback.campaigns.scenarios import Playbook, load_playbook
from winback.campaigns.types import (
    Campaign,
    CampaignDetail,
    CampaignList,
    CampaignReport,
    CampaignRequest,
    CloseResult,
    CreateResult,
    DraftSpec,
    LaunchResult,
    MeasureResult,
    ReportSums,
)
from winback.common.results import Result
from winback.errors import InputError
from winback.i18n import _

if TYPE_CHECKING:
    from winback.app import Winback

#: a refresh sums the purchases of the campaigns whose response window was open within this many days before it
KEEP_REPORTS_DAYS = 30


class Targeting(Protocol):
    """Whom of an audience a campaign keeps (`--target`): supplied by the app (the uplift room's service), since
    campaigns imports no room above it. `select` decides at create (and records it), `restrict` applies it at launch."""

    def select(
        self, request: CampaignRequest, spec: DraftSpec, audience: Audience, campaign_id: str, now: dt.datetime
    ) -> tuple[Audience, Result]: ...

    def restrict(self, campaign_id: str, audience: Audience) -> Audience: ...


class CampaignService:
    def __init__(self, wb: Winback, targeting: Targeting | None = None) -> None:
        self.wb = wb
        self.targeting = targeting

    def playbook(self) -> Playbook:
        """The scenario playbook: the `scenarios` setting's file, else the shipped one."""
        return load_playbook(self.wb.settings.scenarios)

    def create(self, request: CampaignRequest, *, now: dt.datetime | None = None) -> CreateResult:
        """Make a draft campaign and preview its audience from the latest snapshot."""
        from winback.campaigns.preview import build_preview, planning_rates, planning_redemption

        now, lang = now or self.wb.now(), self.wb.settings.lang
        db = self.wb.db()
        playbook = self.playbook()
        spec = check_request(request, playbook)
        campaign_id = store.next_campaign_id(db)
        aud = store.select_audience(
            db,
            spec.scenario,
            stores=spec.stores,
            frequency_cap_days=spec.frequency_cap_days,
            now=now,
            campaign_id=campaign_id,
        )
        if spec.stores:
            check_stores(spec.stores, store.snapshot_stores(db, aud.as_of))
        targeting = None
        if request.target is not None and self.targeting is not None:
            aud, targeting = self.targeting.select(request, spec, aud, campaign_id, now)
        history = list(store_report.finished_outcomes(db, now))
        rates, fallback = planning_rates(playbook, past_response_rates(history))
        redemption = planning_redemption(playbook, past_redemption_rate(history))
        preview = build_preview(aud, spec, rates, fallback, lang, redemption)
        name = spec.name or f"{spec.scenario.name(lang)} {now:%Y-%m-%d}"
        store.insert_draft(db, campaign_id=campaign_id, name=name, spec=spec, as_of=aud.as_of, preview=preview, now=now)
        return CreateResult(store.get_campaign(db, campaign_id), preview, targeting)

    def launch(self, campaign_id: str, *, now: dt.datetime | None = None) -> LaunchResult:
        """Freeze the audience, assign arms, issue coupons, create guide tasks, queue touches (one transaction)."""
        from winback.campaigns import store_launch
        from winback.campaigns.launch import assign_arms, check_launchable, due_days, launch_result

        now = now or self.wb.now()
        db = self.wb.db()
        playbook = self.playbook()
        c = store.get_campaign(db, campaign_id)
        check_launchable(c)
        sc = dataclasses.replace(playbook.get(c.scenario), channel=c.channel)  # --channel at create wins
        members, excluded = store_launch.launch_audience(
            db,
            sc,
            as_of=c.as_of,
            stores=c.stores,
            frequency_cap_days=frequency_cap_days(playbook),
            now=now,
            campaign_id=campaign_id,
        )
        if self.targeting is not None:
            members = self._restrict(campaign_id, c, members, excluded)
        members = assign_arms(c, members)
        coupons, tasks, touches = store_launch.write_launch(
            db, c, sc, members, now=now, lang=self.wb.settings.lang, due_days=due_days(c)
        )
        return launch_result(store.get_campaign(db, campaign_id), members, coupons, tasks, touches, excluded)

    def _restrict(self, campaign_id: str, c: Campaign, members: pa.Table, excluded: dict[str, int]) -> pa.Table:
        """The targeting's restriction (the uplift room reads the members' ids only)."""
        import pyarrow.compute as pc

        ids = members["member_id"].to_pylist()
        aud = Audience(c.as_of, [{"member_id": i} for i in ids], excluded, len(ids), 0)
        assert self.targeting is not None
        kept = self.targeting.restrict(campaign_id, aud)
        if kept is aud:
            return members
        keep = pa.array([m["member_id"] for m in kept.members], pa.string())
        return members.filter(pc.is_in(members["member_id"], keep))

    def list(self) -> CampaignList:  # the CLI verb; annotations in this class use Sequence, not list
        return CampaignList(store.list_campaigns(self.wb.db(write=False)))

    def show(self, campaign_id: str) -> CampaignDetail:
        db = self.wb.db(write=False)
        c = store.get_campaign(db, campaign_id)
        preview = store.stored_preview(db, campaign_id)
        arms = store.arm_sizes(db, campaign_id)
        coupons, redeemed, tasks, touches = store.activity_counts(db, campaign_id)
        return CampaignDetail(c, preview, arms, coupons, redeemed, tasks, touches)

    def close(self, campaign_id: str, *, now: dt.datetime | None = None) -> CloseResult:
        """Close a running campaign (or discard a draft): its control group is released, open tasks are skipped,
        its unredeemed coupons are voided."""
        db = self.wb.db()
        c = store.get_campaign(db, campaign_id)
        if c.status == "closed":
            raise InputError(
                _(
                    "campaign {campaign_id} is already closed (at {closed_at})",
                    campaign_id=campaign_id,
                    closed_at=c.closed_at,
                )
            )
        voided = store.close_campaign(db, campaign_id, now or self.wb.now())
        return CloseResult(store.get_campaign(db, campaign_id), voided)

    def report(
        self, campaign_id: str, *, by: str | None = None, alpha: float = 0.05, now: dt.datetime | None = None
    ) -> CampaignReport:
        """Per arm: responders, revenue, incremental vs control with CIs, cost, incremental ROI, the winner."""
        from winback.campaigns.report import BY_COLUMNS, ArmTotals, build_report, check_reportable, totals_of_sums

        db = self.wb.db(write=False)
        c = store.get_campaign(db, campaign_id)
        check_reportable(c, by)
        now = now or self.wb.now()
        main = totals_of_sums(store_report.arm_totals(db, campaign_id)).get("", ({}, ArmTotals()))
        groups = totals_of_sums(store_report.arm_totals(db, campaign_id, BY_COLUMNS[by])) if by else None
        return build_report(c, main, by=by, groups=groups, alpha=alpha, now=now)

    def build_report_sums(self, as_of: dt.date) -> ReportSums:
        """Sum the purchases of every campaign whose response window was open within `KEEP_REPORTS_DAYS` before
        `as_of` (LifecycleService.prepare calls this for that snapshot): a report then sums only its outreach
        (store_report.arm_totals) until the orders change."""
        since = dt.datetime.combine(as_of, dt.time()) - dt.timedelta(days=KEEP_REPORTS_DAYS)
        db = self.wb.db()
        campaigns = store_report.open_campaigns(db, since)
        for cid in campaigns:
            store_report.build_order_sums(db, cid)
        return ReportSums(campaigns)

    def measure(
        self,
        path: Path | str,
        *,
        arm: str,
        control: str,
        outcomes: Sequence[str],
        cost_per_contact: float | None = None,
        margin: float = 1.0,
        alpha: float = 0.05,
        encoding: str = "auto",
        sheet: str | None = None,
    ) -> MeasureResult:
        """Any experiment's file with one row per member: every arm against the control (no warehouse needed)."""
        from winback.campaigns.measure_file import measure_file

        return measure_file(
            path,
            arm=arm,
            control=control,
            outcomes=list(outcomes),
            cost_per_contact=cost_per_contact,
            margin=margin,
            alpha=alpha,
            encoding=encoding,
            sheet=sheet,
        )
