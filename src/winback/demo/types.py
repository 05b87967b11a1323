"""What `winback demo` returns (typed; `to_dict()` is the command's --json shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from winback.common.results import Result, plain


@dataclass(frozen=True)
class DemoImport(Result):
    """One export file imported through the real import path."""

    file: str
    kind: str
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    rows_duplicate: int
    encoding: str | None
    date_format: str | None
    seconds: float
    import_id: int | None


@dataclass(frozen=True)
class WarehouseCounts(Result):
    """What the warehouse holds after the imports."""

    members: int
    wechat_members: int
    bad_phones: int  # phone_status invalid or missing
    orders: int
    walk_in_orders: int  # no member
    refund_orders: int
    revenue: float  # paid and refunded amounts (refunds are negative)


@dataclass(frozen=True)
class DuplicatesFound(Result):
    """The dedupe run the demo makes (report only, nothing merged)."""

    run_id: int
    threshold: float
    members: int
    clusters: int
    duplicates: int


@dataclass(frozen=True)
class DemoAnalysis(Result):
    """What an operator does first after the import: duplicates, the member snapshot, the overview."""

    dedupe: DuplicatesFound
    refresh: Any  # winback.lifecycle.refresh.RefreshResult
    overview: Any  # winback.overview.service.Overview


@dataclass
class DemoSummary(Result):
    """The brand that was generated, and (when imported) what the warehouse holds and the first analysis.
    `imports`, `warehouse` and `analysis` are left out of the JSON when the files were only written."""

    brand: dict[str, str]  # zh, en
    db: str | None
    out_dir: str
    layout: str  # mixed (GBK CSV + XLSX + Parquet) or parquet
    spec: dict[str, Any]  # members, years, seed, start, end (ISO dates)
    members: int
    orders: int
    order_rows: int
    refunds: int
    revenue: float
    stores: int
    guides: int
    wechat_contacts: int
    planted_duplicates: int
    generated: dict[str, Any]  # files, share_no_purchase_90d, share_never_purchased
    imports: list[DemoImport] | None = None
    warehouse: WarehouseCounts | None = None
    analysis: DemoAnalysis | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # generate, import[, dedupe, refresh]

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        for key in ("imports", "warehouse", "analysis"):
            if getattr(self, key) is None:
                del out[key]
        return out

    def manifest(self) -> dict[str, Any]:
        """What truth/manifest.json keeps: the brand, its parameters and the files generated."""
        return {k: plain(getattr(self, k)) for k in ("brand", "spec", "generated")}
