"""Error hierarchy. Services raise these; boundaries (CLI, web) translate them for people.

Every message says what was wrong, what was given, and what to do.
"""

from __future__ import annotations


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
    """The analytics engine (DuckDB or Spark) failed or is unavailable."""


class ModelError(WinbackError):
    """A model cannot be fitted (too little data, no convergence)."""
