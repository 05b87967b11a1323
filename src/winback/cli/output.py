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
from rich.console import Console
from rich.table import Table

from winback.errors import EngineError, WinbackError

console = Console()
err_console = Console(stderr=True)

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


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    t = Table(title=title, show_lines=False, header_style="bold")
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i == 0 else "right")
    for r in rows:
        t.add_row(*[fmt(v) for v in r])
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
    """A label in the user's language; lang "both" gives "中文 · English" (the demo summary)."""
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
        return EngineError(f"the database failed: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}")
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
                    err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
                    if exc.hint:
                        err_console.print(exc.hint, highlight=False)
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                err_console.print("interrupted; nothing was half-applied.")
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
