"""`LifecycleService(wb)`: the lifecycle commands as a service (refresh, segments, transitions, members, explain).

A thin orchestrator: it opens the warehouse (and, for a refresh, the analytics engine the settings name) through
the app object and calls the room's functions, which return typed results (`RefreshResult`, `results.py`).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from winback.errors import InputError
from winback.i18n import _

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.lifecycle.refresh import RefreshResult
    from winback.lifecycle.results import Explanation, MemberList, Prepared, SegmentSummary, Transitions


#: a step the app adds to `prepare` (the overview's and the campaign reports' sums): (name, as_of -> None)
AfterRefresh = tuple[str, Callable[[dt.date], object]]


class LifecycleService:
    def __init__(self, wb: Winback, after_refresh: Sequence[AfterRefresh] = ()) -> None:
        self.wb = wb
        self.after_refresh = tuple(after_refresh)

    def refresh(
        self,
        as_of: dt.date | None = None,
        *,
        rules_files: Iterable[Path | str] = (),
        history: str | None = None,
        progress: Callable[[str], None] | None = None,
        engine: str | None = None,
        orders_parquet: str | None = None,
        members_parquet: str | None = None,
        model: str | None = None,
        allow_future: bool = False,
        full: bool = False,
        prepare: bool = False,
    ) -> RefreshResult:
        """Build the snapshot at `as_of` (default: the day after the last order, at most tomorrow) on the engine
        the settings name (or `engine`, a command's --engine); `history="monthly"` also builds one on the first
        day of every month since the first order (the result is the last snapshot, with `history` listing every
        date built). An as-of after tomorrow (the brand's now, WINBACK_NOW) is refused unless `allow_future`.
        `prepare`: then sum what the console's pages read (`prepare`; the result's `pages`): the server's jobs
        and the demo do; the CLI only with --pages (a server sums them when it starts: `pages_due`)."""
        from winback.engine.dialect import DIALECTS
        from winback.lifecycle import asof, queries
        from winback.lifecycle.history import refresh_history
        from winback.lifecycle.modelling import DEFAULT_PURCHASE_MODEL, PURCHASE_MODELS
        from winback.lifecycle.refresh import refresh

        lang = self.wb.settings.lang
        today = self.wb.now().date()
        if model is not None and model not in PURCHASE_MODELS:
            raise InputError(
                _("unknown purchase model {model!r}", model=model),
                hint=_("Use --model {purchase_models}.", purchase_models=" or ".join(PURCHASE_MODELS)),
            )
        if as_of is not None:
            asof.check_as_of(as_of, today, allow_future=allow_future, lang=lang)

        if engine is not None and engine not in DIALECTS:
            raise InputError(
                _("unknown engine {engine!r}", engine=engine), hint=_("Use --engine duckdb or --engine spark.")
            )
        dialect = DIALECTS[engine or self.wb.settings.engine]
        if dialect.in_warehouse and (orders_parquet or members_parquet):
            raise InputError(
                _("--orders-parquet and --members-parquet are read by the Spark engine only"),
                hint=_("Add --engine spark, or import the files into the warehouse with `winback import`."),
            )
        db = self.wb.db()
        eng = self.wb.engine(engine, orders_parquet=orders_parquet, members_parquet=members_parquet)
        try:
            notes: list[str] = []
            if as_of is None:
                last = queries.last_order_day(eng)
                if last is not None:
                    as_of, capped = asof.default_as_of(last, today, allow_future=allow_future)
                    if capped:
                        notes.append(asof.text("clamped", lang, after=today.isoformat(), limit=as_of.isoformat()))
            kwargs = {"rules_files": rules_files, "progress": progress, "model": model or DEFAULT_PURCHASE_MODEL}
            # `full`: rebuild the member facts from all orders (issue 14); a data lake's files carry no import
            # bookkeeping, so the incremental path cannot follow them
            kwargs["full"] = full or bool(orders_parquet or members_parquet)
            kwargs["refit_change"] = self.wb.settings.refit_change
            with warnings.catch_warnings():  # DuckDB's note about copying DB-API results to Arrow is not for users
                warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
                if history:
                    runs = refresh_history(eng, db, as_of, every=history, **kwargs)
                    result = replace(runs[-1], history=[r.as_of for r in runs])
                else:
                    result = refresh(eng, db, as_of, **kwargs)
            result.notes[:0] = notes
        finally:
            self.wb.release(eng)
        if prepare:
            result.pages = self.prepare(result.as_of, progress=progress).to_dict()
        return result

    def pages_due(self) -> dt.date | None:
        """The date of the snapshot the pages read (the newest refresh: store.default_snapshot) when what they read
        of it is not summed, or was summed before it (or the snapshot before it, for the transitions) was last
        written (store_pages.built); None when it is current or there is no snapshot. The server asks this when it
        starts and after each job (web/warm.py)."""
        from winback.lifecycle import store, store_pages

        db = self.wb.db()
        as_of = store.default_snapshot(db, self._today())
        if as_of is None:
            return None
        before = store.snapshot_before(db, as_of)
        current = all(store_pages.built(db, part, as_of) for part in ("segments", "members"))
        if current and before is not None:
            current = store_pages.built(db, "transitions", before, as_of)
        return None if current else as_of

    def prepare(self, as_of: dt.date, *, progress: Callable[[str], None] | None = None) -> Prepared:
        """Sum once what the pages read of the snapshot at `as_of` (store_pages.py: segments overall and by store,
        tier, channel and guide, the transitions from the snapshot before, the head of each member list), then run
        the app's steps (the overview's figures and data quality, the open campaigns' purchases), so the first page
        view after it reads a few rows. A refresh calls it when asked to (`refresh(prepare=True)`: the server's jobs,
        the demo, `--pages`); the server, when it starts or a job ends, when `pages_due` says so."""
        import time

        from winback.lifecycle import store, store_pages
        from winback.lifecycle.results import Prepared

        db = self.wb.db()
        if progress is not None:
            progress(_("summing what the pages read"))
        started = time.perf_counter()
        store_pages.build_pages(db, as_of, store.snapshot_before(db, as_of))
        done = Prepared(as_of, {"pages": round(time.perf_counter() - started, 2)})
        for name, step in self.after_refresh:
            started = time.perf_counter()
            step(as_of)
            done.seconds[name] = round(time.perf_counter() - started, 2)
        return done

    def segments(
        self, *, scheme: str = "seed_cn", as_of: dt.date | None = None, by: str | None = None
    ) -> SegmentSummary:
        """Members per segment of a scheme (in rule order), optionally per store, tier, channel or guide."""
        from winback.lifecycle.views import segment_summary

        return segment_summary(
            self.wb.db(write=False), scheme=scheme, as_of=as_of, by=by, lang=self.wb.settings.lang, today=self._today()
        )

    def transitions(self, *, date_from: dt.date, date_to: dt.date, scheme: str = "seed_cn") -> Transitions:
        """How members moved between the segments of `scheme` from one snapshot to another."""
        from winback.lifecycle.views import transitions

        db = self.wb.db(write=False)
        return transitions(db, date_from=date_from, date_to=date_to, scheme=scheme, lang=self.wb.settings.lang)

    def members(
        self,
        *,
        scheme: str = "seed_cn",
        segments: list[str] | None = None,
        stores: list[str] | None = None,
        as_of: dt.date | None = None,
        limit: int | None = None,
        show_phones: bool = False,
        export: Path | None = None,
        contacts: bool = False,
        progress: Callable[[str], None] | None = None,
        rows_done: Callable[[int, int], None] | None = None,
    ) -> MemberList:
        """Members of segments and stores, most valuable first (phones masked unless `show_phones`); with `export`
        the list is written to that file (.xlsx, .csv or .parquet: these two by the database itself) and the result
        names it; an XLSX reports (rows written, total) to `rows_done`. `contacts`: the guide-WeChat contacts
        instead (not members, in no snapshot), by store and guide."""
        from winback.lifecycle.export import COPY_FORMATS, export_format
        from winback.lifecycle.views import export_members, list_contacts, list_members

        if contacts and segments:
            raise InputError(
                _("--contacts lists the guide-WeChat contacts, which are in no segment"),
                hint=_("Leave out --segment (and --scheme), or leave out --contacts."),
            )
        lang = self.wb.settings.lang
        if export is not None and not contacts and export_format(export, lang) in COPY_FORMATS:
            found = export_members(
                self.wb.db(write=False), export, lang=lang, scheme=scheme, segments=segments, stores=stores,
                as_of=as_of, limit=limit, show_phones=show_phones, today=self._today(),
            )  # fmt: skip
            if show_phones:
                self._audit_phones(found, export, scheme=scheme, segments=segments, stores=stores, contacts=contacts)
            return found
        found = (
            list_contacts(
                self.wb.db(write=False), today=self._today(), stores=stores, limit=limit, show_phones=show_phones
            )
            if contacts
            else list_members(
                self.wb.db(write=False),
                scheme=scheme,
                segments=segments,
                stores=stores,
                as_of=as_of,
                limit=limit,
                show_phones=show_phones,
                today=self._today(),
            )
        )
        if export is not None:
            from winback.lifecycle.export import export_table

            fmt = export_table(found.members, export, lang=lang, progress=progress, rows_done=rows_done)
            found = replace(found, file=export, format=fmt)
        if show_phones:  # full numbers shown or written: in the audit log (an export that cannot be is removed)
            self._audit_phones(found, export, scheme=scheme, segments=segments, stores=stores, contacts=contacts)
        return found

    def _audit_phones(self, found: MemberList, export: Path | None, **what: object) -> None:
        from winback.warehouse.audit import os_actor, record_audit

        detail = {"what": "members", **what, "rows": found.count, "phones": "full"}
        if export is not None:
            detail["file"] = str(Path(export).resolve())
        try:
            record_audit(self.wb.db(), at=self.wb.now(), actor=os_actor(), action="export" if export else
                         "phone_reveal", target=Path(export).name if export else "members", detail=detail)  # fmt: skip
        except BaseException:
            if export is not None:
                Path(export).unlink(missing_ok=True)
            raise

    def explain(self, member_id: str, *, as_of: dt.date | None = None) -> Explanation:
        """Every number behind a member's segments and scores at one snapshot."""
        from winback.lifecycle.views import explain_member

        return explain_member(
            self.wb.db(write=False), member_id, as_of=as_of, lang=self.wb.settings.lang, today=self._today()
        )

    def _today(self) -> dt.date:
        return self.wb.now().date()
