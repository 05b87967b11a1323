"""`Console(wb, user, caller)`: what one logged-in user may read and do, with the row-level rules applied here,
below the routes and the templates (a page or an API route never filters; it asks the console).

- hq_admin: the whole brand; reveals phones; writes.
- analyst: the whole brand, read only; never a phone.
- store_manager: his stores only (segments by store, members of his stores, their member pages).
- guide: her own members only (members.guide_id) and her tasks.
A member outside the caller's scope is a 403 (never a 200 with someone else's data); one that does not exist a 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from winback.common.phones import display_phone, mask_phone
from winback.common.results import Result
from winback.i18n import _
from winback.web import store_users
from winback.web.cache import OUTREACH, SNAPSHOT
from winback.web.errors import Forbidden, InputError, NotFoundError
from winback.web.types import MemberOwner, PhoneReveal, User

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.campaigns.types import CampaignList, CampaignReport
    from winback.lifecycle.results import Explanation, SegmentSummary, Transitions
    from winback.outreach.tasks_types import DoneResult, TaskList
    from winback.overview.service import Overview
    from winback.web.cache import AnswerCache
    from winback.web.users_service import Caller, UsersService

MAX_PAGE = 500
BLOCK = 1000  # a member list is read (and kept) this many rows at a time: the pages of its head share one read
KEPT_ROWS = 10_000  # past this a page is not kept
T = TypeVar("T")


@dataclass(frozen=True)
class MemberPage(Result):
    """One page of a member list (phones masked), in the caller's scope."""

    as_of: dt.date
    scheme: str
    segment: str | None
    store: str | None
    offset: int
    limit: int
    has_more: bool
    members: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "as_of": self.as_of.isoformat()}


@dataclass(frozen=True)
class MemberExport(Result):
    path: Path
    filename: str
    rows: int


@dataclass(frozen=True)
class MemberDetail(Result):
    """A member page: the masked phone, whose member it is, and `explain` (every number and the rule behind it)."""

    member_id: str
    name: str | None
    phone_masked: str
    store_id: str | None
    guide_id: str | None
    may_reveal: bool
    explain: dict[str, Any]


class Console:
    def __init__(
        self, wb: Winback, users: UsersService, user: User, caller: Caller, cache: AnswerCache | None = None
    ) -> None:
        self.wb, self.users, self.user, self.caller = wb, users, user, caller
        self.cache = cache

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], T], scope: str = SNAPSHOT) -> T:
        """`compute()`, or the answer kept for the same key and language (cache.py): a SNAPSHOT answer for the
        brand's day (it reads the newest snapshot dated at or before tomorrow), an OUTREACH one for its minute (a
        report's window closes, a task falls overdue)."""
        if self.cache is None:
            return compute()
        now = self.wb.now()
        moment = now.date() if scope == SNAPSHOT else now.replace(second=0, microsecond=0)
        return self.cache.get((*key, self.wb.settings.lang, moment), compute, scope)

    # -- the rules ---------------------------------------------------------------------------------------------------
    def _require_brand(self, what: str) -> None:
        if not self.user.sees_brand:
            raise Forbidden(
                _("your role ({role}) may not {what}", role=self.user.role, what=what),
                hint=_("Ask an HQ admin to change your role."),
            )

    def _owner(self, member_id: str) -> MemberOwner:
        owner = store_users.member_owner(self.wb.db(write=False), member_id)
        if owner is None:
            raise NotFoundError(
                _("no member {member_id}", member_id=member_id), hint=_("Check the id (the members page lists them).")
            )
        if not in_scope(self.user, owner):
            raise Forbidden(
                _("member {member_id} is outside your scope", member_id=member_id),
                hint=_("A guide sees only her own members, a store manager only his store's."),
            )
        return owner

    # -- reads ---------------------------------------------------------------------------------------------------------
    def overview(self) -> Overview:
        self._require_brand(_("see the brand overview"))
        return self._cached(("overview",), self.wb.overview.overview)

    def transitions(self, as_of: dt.date) -> Transitions | None:
        """How members moved between the dormancy layers from the snapshot before `as_of` (the overview's) to it
        (HQ roles); None when there is no earlier snapshot."""
        self._require_brand(_("see the brand overview"))
        earlier = [d for d in store_users.snapshot_dates(self.wb.db(write=False)) if d < as_of]
        if not earlier:
            return None
        return self._cached(("transitions", earlier[-1], as_of),
                            lambda: self.wb.lifecycle.transitions(date_from=earlier[-1], date_to=as_of))  # fmt: skip

    def segments(self, *, scheme: str = "seed_cn", by: str | None = None) -> SegmentSummary:
        """The brand's segments (HQ), or per store for a store manager's stores, per guide for a guide's own."""
        u = self.user
        if u.sees_brand:
            return self._cached(("segments", scheme, by), lambda: self.wb.lifecycle.segments(scheme=scheme, by=by))
        column, allowed = ("store", set(u.stores)) if u.role == "store_manager" else ("guide", {u.guide_id})
        full = self._cached(("segments", scheme, column), lambda: self.wb.lifecycle.segments(scheme=scheme, by=column))
        rows = [r for r in full.segments if r.group in allowed]
        total = sum(r.members for r in rows) or 1
        rows = [replace(r, share=r.members / total) for r in rows]
        return replace(full, segments=rows, members=sum(r.members for r in rows))

    def members(
        self, *, scheme: str = "seed_cn", segment: str | None = None, store: str | None = None, limit: int = 50,
        offset: int = 0,
    ) -> MemberPage:  # fmt: skip
        """A page of members, most valuable first, within the caller's scope (a store outside it is a 403)."""
        u, limit, offset = self.user, max(1, min(limit, MAX_PAGE)), max(0, offset)
        stores = [store] if store else None
        if u.role == "store_manager":
            if store and store not in u.stores:
                raise Forbidden(
                    _("store {store} is outside your scope", store=store),
                    hint=_("A store manager sees only his stores: {stores}.", stores=", ".join(u.stores)),
                )
            stores = stores or list(u.stores)
        elif u.role == "guide":
            stores = stores or (list(u.stores) or None)
        if u.role == "guide":
            as_of, rows = self._member_rows(scheme, segment, stores, None)
            rows = [r for r in rows if r.get("guide_id") == u.guide_id]
            page = rows[offset : offset + limit]
            return MemberPage(as_of, scheme, segment, store, offset, limit, len(rows) > offset + limit, page)
        # the same page for everyone with the same stores, cut from a kept block of the list's head (cache.py); a
        # page deep in the list is read on its own
        block = -(-(offset + limit + 1) // BLOCK) * BLOCK

        def page() -> MemberPage:
            if block > KEPT_ROWS:
                as_of, rows = self._member_rows(scheme, segment, stores, offset + limit + 1)
            else:
                as_of, rows = self._cached(("member_rows", scheme, segment, tuple(stores or ()), block),
                                           lambda: self._member_rows(scheme, segment, stores, block))  # fmt: skip
            cut = rows[offset : offset + limit]
            return MemberPage(as_of, scheme, segment, store, offset, limit, len(rows) > offset + limit, cut)

        return self._cached(("members", scheme, segment, store, tuple(stores or ()), limit, offset), page)

    def _member_rows(
        self, scheme: str, segment: str | None, stores: list[str] | None, limit: int | None
    ) -> tuple[dt.date, list[dict[str, Any]]]:
        found = self.wb.lifecycle.members(scheme=scheme, segments=[segment] if segment else None, stores=stores,
                                          limit=limit)  # fmt: skip
        return found.as_of, found.rows

    def member(self, member_id: str) -> MemberDetail:
        owner = self._owner(member_id)
        explanation: Explanation = self.wb.lifecycle.explain(member_id)
        return MemberDetail(member_id, owner.name, mask_phone(owner.phone) if owner.phone else "—", owner.store_id,
                            owner.guide_id, self.user.may_reveal, explanation.to_dict())  # fmt: skip

    def reveal_phone(self, member_id: str) -> PhoneReveal:
        """The full phone of a member in scope, written to the audit log (an analyst: 403)."""
        if not self.user.may_reveal:
            raise Forbidden(
                _("your role ({role}) may not {what}", role=self.user.role, what=_("reveal phones")),
                hint=_("Ask an HQ admin to change your role."),
            )
        owner = self._owner(member_id)
        self.users.record(self.user, "phone_reveal", member_id, self.caller)
        return PhoneReveal(member_id, display_phone(owner.phone) if owner.phone else "", owner.name)

    def export_members(
        self, folder: Path, *, scheme: str = "seed_cn", segment: str | None = None, store: str | None = None,
        fmt: str = "xlsx",
    ) -> MemberExport:  # fmt: skip
        """The members of a segment (and store) as a file in `folder`, phones masked, audited (a guide exports
        nothing: her list is on her tasks page)."""
        u = self.user
        if u.role == "guide":
            raise Forbidden(
                _("your role ({role}) may not {what}", role=u.role, what=_("export members")),
                hint=_("Ask an HQ admin to change your role."),
            )
        if fmt not in ("xlsx", "csv"):
            raise InputError(
                _("bad request: {detail}", detail=f"format={fmt!r} (xlsx or csv)"),
                hint=_("See /docs for the parameters."),
            )
        stores = [store] if store else None
        if u.role == "store_manager":
            if store and store not in u.stores:
                raise Forbidden(
                    _("store {store} is outside your scope", store=store),
                    hint=_("A store manager sees only his stores: {stores}.", stores=", ".join(u.stores)),
                )
            stores = stores or list(u.stores)
        name = f"members-{scheme}-{segment or 'all'}{'-' + store if store else ''}.{fmt}"
        found = self.wb.lifecycle.members(scheme=scheme, segments=[segment] if segment else None, stores=stores,
                                          export=folder / name)  # fmt: skip
        self.users.record(u, "export", name, self.caller, scheme=scheme, segment=segment, stores=stores,
                          rows=found.count, phones="masked")  # fmt: skip
        return MemberExport(folder / name, name, found.count)

    def campaigns(self) -> CampaignList:
        self._require_brand(_("see campaigns"))
        return self.wb.campaigns.list()

    def report(self, campaign_id: str) -> CampaignReport:
        self._require_brand(_("see campaign reports"))
        if self.cache is None:
            return self.wb.campaigns.report(campaign_id)
        # a report reads the clock only to say whether its window has ended: kept until the outreach data change
        # or the window ends (its end, learned from the first report, never moves), not per minute
        lang, first = self.wb.settings.lang, None

        def compute() -> CampaignReport:
            return self.wb.campaigns.report(campaign_id)

        end = self.cache.window_ends.get(campaign_id)
        if end is None:  # the first report says where its window ends
            first = self.cache.get(("report", campaign_id, lang, None), compute, OUTREACH)
            end = self.cache.window_ends.setdefault(campaign_id, first.window_end)
        ended = self.wb.now() >= end
        if first is not None and first.window_complete == ended:
            return self.cache.get(("report", campaign_id, lang, ended), lambda: first, OUTREACH)
        return self.cache.get(("report", campaign_id, lang, ended), compute, OUTREACH)

    # -- guide tasks (the outreach room's TaskService, wb.tasks) ------------------------------------------------
    def tasks(self, *, status: str | None = None, limit: int = 200) -> TaskList:
        """The caller's tasks, by priority: a guide's own, a store manager's stores', HQ's all."""
        from dataclasses import replace as copy

        u, limit = self.user, max(1, min(limit, MAX_PAGE))
        if u.role == "guide":
            return self._cached(("tasks", u.guide_id, status, limit),
                                lambda: self.wb.tasks.list(guide=u.guide_id, status=status, limit=limit),
                                OUTREACH)  # fmt: skip
        if u.role == "store_manager":
            parts = [self.wb.tasks.list(store=s, status=status, limit=limit) for s in u.stores]
            rows = [t for p in parts for t in p.tasks][:limit]
            return copy(parts[0], total=sum(p.total for p in parts), shown=len(rows), tasks=rows)
        return self.wb.tasks.list(status=status, limit=limit)

    def record_outcome(self, task_id: str, outcome: str, note: str | None = None) -> DoneResult:
        """One outcome of one task in the caller's scope (idempotent: a retry changes nothing), audited."""
        if not self.user.may_write:
            raise Forbidden(
                _("your role ({role}) may not {what}", role=self.user.role, what=_("record outcomes")),
                hint=_("Ask an HQ admin to change your role."),
            )
        owner = store_users.task_owner(self.wb.db(write=False), task_id)
        if owner is None:
            raise NotFoundError(
                _("no task {task_id}", task_id=task_id),
                hint=_("Task ids look like C0001:880000000123; see the tasks page."),
            )
        guide_id, store_id = owner
        if not in_scope(self.user, MemberOwner(task_id, store_id, guide_id, None, None)):
            raise Forbidden(
                _("task {task_id} is outside your scope", task_id=task_id),
                hint=_("A guide records only her own tasks, a store manager only his store's."),
            )
        done = self.wb.tasks.done(task_id, outcome, note=note or None, who=self.user.username)
        if self.cache is not None:
            self.cache.changed(OUTREACH)  # tasks and reports count outcomes (the snapshot's answers stand)
        if done.recorded:
            self.users.record(self.user, "task_outcome", task_id, self.caller, outcome=done.outcome, note=note)
        return done


def in_scope(user: User, owner: MemberOwner) -> bool:
    """May this user see this member (pure)? Brand roles: all; a store manager: his stores; a guide: her own."""
    if user.sees_brand:
        return True
    if user.role == "store_manager":
        return owner.store_id in user.stores
    if user.role == "guide":
        return user.guide_id is not None and owner.guide_id == user.guide_id
    return False
