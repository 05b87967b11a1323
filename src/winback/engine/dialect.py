"""What differs between backends, as properties: domain code asks the dialect, never the engine's name."""

from __future__ import annotations

from dataclasses import dataclass

from winback.errors import ConfigError
from winback.i18n import _


@dataclass(frozen=True)
class Dialect:
    name: str
    #: how people call the backend in messages
    label: str
    #: the sqlglot dialect its SQL is written in (winback's SQL is written in DuckDB's)
    sqlglot: str
    #: BEGIN / COMMIT / ROLLBACK are real (all of a block's writes are kept, or none)
    transactions: bool
    #: the lifecycle refresh may count exact purchase days with per-member bitmaps in one GROUP BY
    #: (DuckDB's bitstring aggregates); other backends use the portable per-member-per-day pre-aggregate
    purchase_day_bitmaps: bool
    #: the backend runs inside the DuckDB warehouse file, so results are written there without an Arrow copy
    in_warehouse: bool

    @classmethod
    def from_string(cls, name: str) -> Dialect:
        try:
            return DIALECTS[name.strip().lower()]
        except KeyError:
            raise ConfigError(
                _("unknown engine {name!r}", name=name),
                hint=_("Use one of {dialects} (--engine or WINBACK_ENGINE).", dialects=", ".join(DIALECTS)),
            ) from None

    def unsupported(self, what: str) -> NotImplementedError:
        return NotImplementedError(f"Backend {self.label!r} does not support {what}")


DIALECTS: dict[str, Dialect] = {
    "duckdb": Dialect("duckdb", "DuckDB", "duckdb", transactions=True, purchase_day_bitmaps=True, in_warehouse=True),
    "spark": Dialect("spark", "Spark", "spark", transactions=False, purchase_day_bitmaps=False, in_warehouse=False),
}
