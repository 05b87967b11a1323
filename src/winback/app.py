"""The app object: `Winback(settings)` owns the warehouse connection and the engine; the services hang off it.

Every entry point (the CLI, the web console, the daily jobs, a notebook) builds one `Winback` from `Settings` and
calls its services; nothing else opens the warehouse or reads settings. The warehouse opens lazily, read-only
for services that only read (so several readers can share the file) and read-write (creating the file and
applying migrations) as soon as one service writes. Services are imported on first use, so `winback --help`
and light commands never load the model, campaign or identity machinery.

    with Winback(Settings.load()) as wb:
        wb.ingest.import_file("orders", "orders.csv")
        wb.lifecycle.refresh()
        print(wb.overview.overview().to_dict())
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import TYPE_CHECKING, Any

from winback.clock import brand_now
from winback.config import Settings

if TYPE_CHECKING:
    import duckdb

    from winback.campaigns.coupon_service import CouponService
    from winback.campaigns.service import CampaignService
    from winback.demo.service import DemoService
    from winback.engine.base import Engine
    from winback.engine.duckdb_engine import DuckDBEngine
    from winback.identity.service import IdentityService
    from winback.ingest.service import IngestService
    from winback.lifecycle.service import LifecycleService
    from winback.outreach.journeys_service import JourneyService
    from winback.outreach.service import OutreachService
    from winback.outreach.task_service import StaffService, TaskService
    from winback.overview.service import OverviewService
    from winback.planner.service import PlannerService
    from winback.quality.service import QualityService
    from winback.uplift.service import UpliftService
    from winback.warehouse.info import WarehouseInfo


class Winback:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else Settings.load()
        self._db: DuckDBEngine | None = None
        self._writable = False
        self._engines: list[Engine] = []

    # -- the warehouse and the engine ------------------------------------------------------------------------
    def db(self, *, write: bool = True) -> DuckDBEngine:
        """The warehouse. `write=False` opens it read-only if it is not open yet (it must exist); a later
        `write=True` reopens it read-write. Call this each time rather than keeping the object."""
        if self._db is not None and (self._writable or not write):
            return self._db
        from winback.engine.duckdb_engine import DuckDBEngine
        from winback.warehouse.connection import connect

        if self._db is not None:
            self._db.close()
            self._db = None
        con = connect(
            self.settings.db_path, read_only=not write, hooks=_migration_hooks(), lock_wait=self.settings.lock_wait
        )
        self._db, self._writable = DuckDBEngine(con), write
        return self._db

    def scoped(self, settings: Settings | None = None) -> Winback:
        """One thread's app over this app's warehouse (a server's request or background job): the same file
        through its own DuckDB cursor, so its statements and transactions neither wait for nor disturb the other
        threads' (DuckDB's MVCC keeps each transaction's snapshot), with its own settings (the request's language).
        Services hang off it as usual; `close()` closes the cursor, never the warehouse. The CLI never needs it."""
        from winback.engine.duckdb_engine import DuckDBEngine

        parent = self.db(write=self._writable or self._db is None)
        child = Winback(settings if settings is not None else self.settings)
        child._db, child._writable = DuckDBEngine(parent.con.cursor()), self._writable
        return child

    def engine(self, name: str | None = None, **spark_paths: str | None) -> Engine:
        """The analytics engine the settings name, or `name` (a command's --engine): DuckDB is the warehouse
        itself; Spark is a session reading the warehouse's tables or the given Parquet (`orders_parquet`,
        `members_parquet`). A Spark engine is closed with the app (or by `release`)."""
        from winback.engine.base import Engine

        settings = self.settings.with_(engine=name) if name else self.settings
        eng = Engine.from_settings(settings, self.db(), **spark_paths)
        if eng is not self._db:
            self._engines.append(eng)
        return eng

    def release(self, engine: Engine) -> None:
        """Close an engine from `engine()` now (never the warehouse itself)."""
        if engine in self._engines:
            self._engines.remove(engine)
            engine.close()

    def now(self) -> dt.datetime:
        """The brand's wall-clock time (naive local time in the `tz` setting), or the `now` setting when given
        (a date alone is its 00:00)."""
        if self.settings.now:
            return dt.datetime.fromisoformat(self.settings.now).replace(tzinfo=None, microsecond=0)
        return brand_now(self.settings.tz)

    def close(self) -> None:
        while self._engines:
            self._engines.pop().close()
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def closed(self) -> bool:
        """Neither the warehouse nor another engine is open (never opened, or closed)."""
        return self._db is None and not self._engines

    def __enter__(self) -> Winback:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- services ----------------------------------------------------------------------------------------------
    @cached_property
    def ingest(self) -> IngestService:
        from winback.ingest.service import IngestService

        return IngestService(self)

    @cached_property
    def lifecycle(self) -> LifecycleService:
        from winback.lifecycle.service import LifecycleService

        # LifecycleService.prepare's steps: what the overview and the campaign reports read, summed once (the
        # lifecycle room imports neither, so the app hands their steps in). Looked up when a step runs: a refresh
        # that does not sum the pages (the CLI's default) imports neither service (~0.18 s of start-up)
        def overview(as_of: dt.date) -> object:
            return self.overview.build(as_of)

        def reports(as_of: dt.date) -> object:
            return self.campaigns.build_report_sums(as_of)

        return LifecycleService(self, after_refresh=(("overview", overview), ("reports", reports)))

    @cached_property
    def identity(self) -> IdentityService:
        from winback.identity.service import IdentityService

        return IdentityService(self)

    @cached_property
    def quality(self) -> QualityService:
        from winback.quality.service import QualityService

        return QualityService(self)

    @cached_property
    def overview(self) -> OverviewService:
        from winback.overview.service import OverviewService

        return OverviewService(self)

    @cached_property
    def campaigns(self) -> CampaignService:
        from winback.campaigns.service import CampaignService

        return CampaignService(self, targeting=self.uplift)  # --target uplift: the uplift room selects

    @cached_property
    def uplift(self) -> UpliftService:
        from winback.uplift.service import UpliftService

        return UpliftService(self)

    @cached_property
    def coupons(self) -> CouponService:
        from winback.campaigns.coupon_service import CouponService

        return CouponService(self)

    @cached_property
    def tasks(self) -> TaskService:
        from winback.outreach.task_service import TaskService

        return TaskService(self, kpis_of=lambda scenario: self.campaigns.playbook().get(scenario).kpis)

    @cached_property
    def staff(self) -> StaffService:
        from winback.outreach.task_service import StaffService

        return StaffService(self)

    @cached_property
    def outreach(self) -> OutreachService:
        from winback.outreach.service import OutreachService

        return OutreachService(self)

    @cached_property
    def journeys(self) -> JourneyService:
        """The daily run; outreach may not import campaigns or lifecycle, so their two steps are passed in."""
        from winback.campaigns.types import CampaignRequest
        from winback.errors import InputError
        from winback.outreach.journeys_service import JourneyService

        def launch(scenario: str, name: str, now: dt.datetime) -> tuple[str | None, int, int, int]:
            cid = self.campaigns.create(CampaignRequest(scenario, name=name), now=now).campaign.campaign_id
            try:
                r = self.campaigns.launch(cid, now=now)
            except InputError:  # nobody left to launch to today: the empty draft goes
                self.campaigns.close(cid, now=now)
                return cid, 0, 0, 0
            return cid, r.members, r.tasks, r.touches

        def refresh(day: dt.date, prepare: bool) -> object:
            return self.lifecycle.refresh(as_of=day, prepare=prepare)

        return JourneyService(self, launch=launch, refresh=refresh)

    @cached_property
    def planner(self) -> PlannerService:
        from winback.planner.service import PlannerService

        return PlannerService(self)

    @cached_property
    def demo(self) -> DemoService:
        from winback.demo.service import DemoService

        return DemoService(self)

    def info(self) -> WarehouseInfo:
        """Row counts per table, the views, the last imports."""
        from winback.warehouse.info import warehouse_info

        return warehouse_info(self.db(write=False).con)


def _rebuild_segments_view(con: duckdb.DuckDBPyConnection) -> Any:
    from winback.engine.duckdb_engine import DuckDBEngine
    from winback.lifecycle.store import rebuild_segments_view

    return rebuild_segments_view(DuckDBEngine(con))


def _migration_hooks() -> dict[str, Any]:
    """The domain steps some migrations need (the warehouse imports no domain room)."""
    from winback.warehouse.migrate import REBUILD_SEGMENTS_VIEW

    return {REBUILD_SEGMENTS_VIEW: _rebuild_segments_view}
