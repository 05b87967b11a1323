"""Error hierarchy. Services raise these; boundaries (CLI, web) translate them for people.

Every message says what was wrong, what was given, and what to do.
"""

from __future__ import annotations

from winback.i18n import _


class WinbackError(Exception):
    """Base of every error a user can cause or fix. The CLI prints it without a traceback."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class InputError(WinbackError):
    """The user gave a file, value or option that cannot be used."""


class ConfigError(WinbackError):
    """Settings or rules files are wrong."""


class NotFoundError(WinbackError):
    """A named thing (import, campaign, member, coupon) does not exist."""


class WarehouseLockedError(WinbackError):
    """Another process holds the warehouse file."""

    exit_code = 3


class EngineError(WinbackError):
    """The database or analytics engine (DuckDB or Spark) failed or is unavailable.

    Raised by the engine's public methods for every backend error, with the failing SQL (truncated) in `sql` and
    in the hint, and what kind of failure it was in `kind`: "conflict" (another writer changed the same rows
    first: retry), "catalog" (a table or column does not exist), "constraint" (a key or NOT NULL was violated),
    "io" (the file could not be read or written), or "other".
    """

    SQL_SHOWN = 300

    def __init__(self, message: str, *, hint: str | None = None, sql: str | None = None, kind: str = "other") -> None:
        if sql and hint is None:
            hint = f"SQL: {shorten_sql(sql, self.SQL_SHOWN)}"
        super().__init__(message, hint=hint)
        self.sql = sql
        self.kind = kind

    @property
    def conflict(self) -> bool:
        return self.kind == "conflict"


def shorten_sql(sql: str, limit: int = 300) -> str:
    """One line of SQL, at most `limit` characters (… marks a cut)."""
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class ModelError(WinbackError):
    """A model cannot be fitted (too little data, no convergence)."""


def outdated_schema(exc: EngineError, needs: str, hint: str | None = None) -> InputError | EngineError:
    """A missing table or column (a "catalog" EngineError) met by a reader: the warehouse is older than this code,
    so say so and how to bring it up to date; any other engine error is returned unchanged."""
    if exc.kind != "catalog":
        return exc
    return InputError(
        _("the warehouse lacks a table or column {needs} ({value})", needs=needs, value=exc.__cause__ or exc.message),
        hint=hint or _("Run `winback init` to bring its schema up to date, then `winback refresh` for the snapshot."),
    )
