"""The typer application, the options every command shares, and the one app object the commands use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from winback import i18n
from winback.errors import WinbackError

if TYPE_CHECKING:
    from winback.app import Winback

app = typer.Typer(
    name="winback",
    help="winback — find the members who went to sleep, win them back, and prove what it earned.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class _State:
    app: Winback | None = None
    error: WinbackError | None = None
    #: the command runs inside a `winback serve` (sent there by cli/remote.py): the console is there
    in_server: bool = False


state = _State()


@app.callback()
def _global(
    ctx: typer.Context,
    db: str = typer.Option(None, "--db", help="Warehouse file (default: $WINBACK_DB, else ./winback.duckdb)."),
    lang: str = typer.Option(None, "--lang", help="zh or en (default: $WINBACK_LANG, else zh)."),
) -> None:
    # builds the app object once from the options and the environment (the only place settings are read)
    from winback.app import Winback
    from winback.config import Settings

    state.app, state.error, state.in_server = None, None, False
    try:
        wb = Winback(Settings.load(db_path=db, lang=lang))
    except WinbackError as exc:  # reported by the command, in its --json shape if asked
        state.error = exc
        return
    state.app = wb
    i18n.set_lang(wb.settings.lang)
    ctx.call_on_close(wb.close)


def current() -> Winback:
    """The app object the callback built (raises the settings error it met, for handle_errors to print)."""
    if state.error is not None:
        raise state.error
    if state.app is None:  # a command called without the callback (tests that call functions directly)
        from winback.app import Winback

        state.app = Winback()
    return state.app


#: `refresh` and `run`: --pages also sums what the console's pages read (LifecycleService.prepare)
PAGES_OPT = typer.Option(
    False,
    "--pages/--no-pages",
    help="Also sum what the console's pages read (default: no; a console sums them when it starts).",
)


def pages_wanted(pages: bool) -> bool:
    """Whether a refresh sums what the console's pages read: asked (--pages), or the command runs inside a server
    (its console reads them next; a server also sums them itself when it starts)."""
    return pages or state.in_server
