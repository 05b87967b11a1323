"""Printing results: rich tables for people, one stable JSON object for machines, errors without tracebacks."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from winback.errors import EngineError, WinbackError
from winback.i18n import _

#: a cell at most this wide (terminal cells) is kept on one line: money, counts, ids, dates, intervals, short names
ATOMIC_WIDTH = 32
#: a wrapping text column gets at least this width before the console is widened
TEXT_MIN_WIDTH = 12


class WholeTable(Table):
    """A table that knows the narrowest width at which none of its atomic cells is cut (see `table`)."""

    needed_width: int = 0


class WideConsole(Console):
    """A console that prints a table wider than itself at the table's needed width instead of cutting cells.

    Rich fits a table to the console by shrinking columns, and shrinks even no-wrap columns as a last resort
    (money "12,3…"), then crops every line at the console's width. Free-text columns wrap (fold) to fit; when the
    one-line columns alone do not fit, the table is printed wider than the console (a terminal wraps the lines;
    a file or pipe keeps them whole) rather than losing digits."""

    def print(self, *objects: object, **kwargs: object) -> None:  # type: ignore[override]
        need = max((o.needed_width for o in objects if isinstance(o, WholeTable)), default=0)
        if need <= self.width:
            super().print(*objects, **kwargs)  # type: ignore[arg-type]
            return
        saved = self._width
        self._width = need
        try:
            super().print(*objects, **kwargs)  # type: ignore[arg-type]
        finally:
            self._width = saved


console = WideConsole()
err_console = WideConsole(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def _default(obj: object) -> object:
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    if isinstance(obj, decimal.Decimal):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()  # type: ignore[no-any-return]
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()  # type: ignore[no-any-return]
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def to_json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, default=_default, sort_keys=False)


def print_json(data: object) -> None:
    sys.stdout.write(to_json(data) + "\n")
    sys.stdout.flush()


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> WholeTable:
    """A rich table that never cuts money, ids or intervals: a column whose cells are all short (numbers, ids,
    dates, "[lo, hi]") stays on one line at its full width; a column with longer text wraps. `needed_width` is
    the width below which WideConsole widens the output instead of cutting."""
    cells = [[fmt(v) for v in r] for r in rows]
    t = WholeTable(title=title, show_lines=False, header_style="bold")
    need = 4 + 3 * len(columns)  # two edges, one separator between columns, padding 1 on each side of a cell
    for i, c in enumerate(columns):
        widths = [cell_len(r[i]) for r in cells if i < len(r)]
        atomic = all(w <= ATOMIC_WIDTH for w in widths)
        justify = "left" if i == 0 else "right"
        if atomic:
            t.add_column(c, justify=justify, no_wrap=True)
            need += max([cell_len(c), *widths])
        else:
            t.add_column(c, justify=justify, overflow="fold")
            need += max(TEXT_MIN_WIDTH, max((cell_len(w) for w in c.split()), default=0))
    for r in cells:
        t.add_row(*r)
    t.needed_width = need
    return t


def fmt(v: object) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def say(lang: str, zh: str, en: str) -> str:
    """A label in the user's language; lang "both" gives "中文 · English" (the demo summary).

    The older mechanism, kept for modules not yet converted: new code writes an English msgid and renders it
    with `winback.i18n.t(msgid, lang)` (the Chinese goes into the room's .po)."""
    if lang == "both":
        return f"{zh} · {en}"
    return zh if lang == "zh" else en


def pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


_BACKENDS = ("duckdb", "_duckdb", "py4j", "pyspark")


def error_object(exc: WinbackError) -> dict[str, dict[str, str | None]]:
    """The one shape of every error in --json output (and in the web API)."""
    return {"error": {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}}


def as_user_error(exc: Exception) -> WinbackError | None:
    """A WinbackError for `exc` if it is one, or a backend error that slipped past the engine; else None."""
    if isinstance(exc, WinbackError):
        return exc
    if type(exc).__module__.split(".")[0] in _BACKENDS:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else str(exc)
        return EngineError(_("the database failed: {reason}", reason=first))
    return None


def handle_errors(json_flag: str = "json_output") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn WinbackError (and any backend error) into a clear message on stderr (or the JSON error object) and a
    non-zero exit: 2, or 3 when the warehouse is locked."""

    def deco(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except Exception as raw:
                exc = as_user_error(raw)
                if exc is None:
                    raise
                if kwargs.get(json_flag):
                    print_json(error_object(exc))
                else:
                    err_console.print(Text.assemble((_("error:"), "bold red"), " ", exc.message), highlight=False)
                    if exc.hint:
                        err_console.print(exc.hint, highlight=False, markup=False)
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                err_console.print(_("interrupted; nothing was half-applied."), highlight=False)
                raise typer.Exit(130) from None

        return wrapper

    return deco


T = TypeVar("T")


def emit(data: T, json_output: bool, render: Callable[[T], None]) -> None:
    """--json: the result's `to_dict()` as one JSON object; else `render(result)` for people."""
    if json_output:
        print_json(data.to_dict() if hasattr(data, "to_dict") else data)
    else:
        render(data)
