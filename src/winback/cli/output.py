"""Printing results: rich tables for people, one stable JSON object for machines, errors without tracebacks."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from winback.errors import WinbackError

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


def handle_errors(json_flag: str = "json_output") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn WinbackError into a clear message on stderr (or a JSON error object) and a non-zero exit."""

    def deco(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except WinbackError as exc:
                if kwargs.get(json_flag):
                    print_json({"error": {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}})
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


def emit(data: dict[str, Any], json_output: bool, render: Callable[[dict[str, Any]], None]) -> None:
    if json_output:
        print_json(data)
    else:
        render(data)
