"""The ingest room's typed results (pure): what an import did, and the rejects listed or exported.
The service returns them, the CLI renders them, and `to_dict()` is the JSON `--json` prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from winback.common.results import Result


@dataclass
class ImportResult:
    import_id: int | None
    kind: str
    file: str
    file_format: str
    encoding: str | None
    rows_in: int
    rows_loaded: int
    rows_updated: int
    rows_rejected: int
    rows_duplicate: int
    date_format: str
    mapping: dict[str, str]  # source column -> target field
    kept: list[str]  # source columns stored in `extra`
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)
    blanked: dict[str, int] = field(default_factory=dict)  # master data: unreadable optional values per field
    status_changes: int = 0  # orders: orders already loaded whose status this file changed (order_status_changes)
    identical_lines: int = 0  # orders: lines repeating an earlier line of their order exactly (kept)
    conflicts: int = 0  # master data: keys repeated in the file with conflicting values (import_conflicts)
    conflicts_shown: list[dict[str, Any]] = field(default_factory=list)  # the first of them (phones masked)
    date_order: str | None = None  # --date-order when given
    seconds: float = 0.0
    db: str | None = None  # the warehouse file, when the import ran through the app (the CLI prints it)

    @property
    def rows_per_second(self) -> float:
        return self.rows_in / self.seconds if self.seconds > 0 else 0.0

    @property
    def adds_up(self) -> bool:
        """Every row in is loaded, rejected or a duplicate."""
        return self.rows_in == self.rows_loaded + self.rows_rejected + self.rows_duplicate

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        db = d.pop("db")
        d["seconds"] = round(self.seconds, 3)
        d["rows_per_second"] = round(self.rows_per_second)
        if db is not None:
            d["db"] = db
        return d


@dataclass
class RejectList:
    import_id: int | None
    total: int
    rows: list[dict[str, Any]]  # import_id, file, row_number, reason, raw, message

    def to_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "total": self.total, "shown": len(self.rows), "rejects": self.rows}


@dataclass
class ConflictList:
    """`winback rejects --conflicts`: the values on which rows repeating a key disagreed (phones masked)."""

    import_id: int | None
    total: int
    rows: list[dict[str, Any]]  # import_id, file, kind, key, field, row_number, value, kept

    def to_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "total": self.total, "shown": len(self.rows), "conflicts": self.rows}


@dataclass
class RejectsExport(Result):
    """`winback rejects --export FILE`: how many rejects were written, and where."""

    import_id: int | None
    exported: int
    file: str
