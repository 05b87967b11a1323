"""Settings, built once at the entry point and passed down (never read from globals in services)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DB = "winback.duckdb"
ENV_DB = "WINBACK_DB"
ENV_LANG = "WINBACK_LANG"


@dataclass(frozen=True)
class Settings:
    db_path: Path
    engine: str = "duckdb"
    lang: str = "zh"
    json_output: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def resolve_db_path(cli_value: str | os.PathLike[str] | None) -> Path:
    """`--db` wins, else $WINBACK_DB, else ./winback.duckdb."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env)
    return Path(DEFAULT_DB)


def resolve_lang(cli_value: str | None) -> str:
    lang = cli_value or os.environ.get(ENV_LANG) or "zh"
    return "en" if lang.lower().startswith("en") else "zh"
