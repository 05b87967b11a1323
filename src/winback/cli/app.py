"""The typer application and the options every command shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from winback.config import Settings, resolve_db_path, resolve_lang

app = typer.Typer(
    name="winback",
    help="winback — find the members who went to sleep, win them back, and prove what it earned.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class _State:
    db: str | None = None
    lang: str | None = None


state = _State()


@app.callback()
def _global(
    db: str = typer.Option(None, "--db", help="Warehouse file (default: $WINBACK_DB, else ./winback.duckdb)."),
    lang: str = typer.Option(None, "--lang", help="zh or en (default: $WINBACK_LANG, else zh)."),
) -> None:
    state.db = db
    state.lang = lang


def settings(json_output: bool = False) -> Settings:
    """Settings built at the entry point from global options and the environment."""
    return Settings(db_path=Path(resolve_db_path(state.db)), lang=resolve_lang(state.lang), json_output=json_output)
