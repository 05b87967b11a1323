"""Entry point: imports the command modules so they register themselves on the app.

`winback COMMAND …` imports only COMMAND's module (COMMAND_MODULES; ~0.1 s of start-up: the other modules and
what they import at module level); help, an unknown name or `from winback.cli.main import app` import them all.
After the command the process ends without Python's teardown (`_leave`: ~0.1-0.2 s of freeing every module and
object), once the command has closed the warehouse and flushed its output."""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading
from typing import Any

import click
import typer.main

from winback.cli.localize import localize, startup_lang

#: the module (winback.cli.<module>) that registers each top-level command; tests/test_cli_modules.py checks it
COMMAND_MODULES = {
    "campaign": "campaign_cmd",
    "scenarios": "campaign_cmd",
    "coupon": "coupon_cmd",
    "dedupe": "dedupe_cmd",
    "demo": "demo_cmd",
    "dispatch": "dispatch_cmd",
    "import": "import_cmd",
    "explain": "lifecycle_cmd",
    "members": "lifecycle_cmd",
    "refresh": "lifecycle_cmd",
    "segments": "lifecycle_cmd",
    "transitions": "lifecycle_cmd",
    "measure": "measure_cmd",
    "overview": "overview_cmd",
    "plan": "plan_cmd",
    "quality": "quality_cmd",
    "rejects": "rejects_cmd",
    "run": "run_cmd",
    "serve": "serve_cmd",
    "staff": "staff_cmd",
    "funnel": "tasks_cmd",
    "tasks": "tasks_cmd",
    "tokens": "tokens_cmd",
    "uplift": "uplift_cmd",
    "users": "users_cmd",
    "info": "warehouse_cmd",
    "init": "warehouse_cmd",
}
#: every command module, in the order the help lists their commands (by module name)
MODULES = tuple(sorted(set(COMMAND_MODULES.values())))


def load(modules: tuple[str, ...] = MODULES) -> typer.Typer:
    """The typer app with the commands of `modules` (default: all) registered."""
    for name in modules:
        importlib.import_module(f"winback.cli.{name}")
    from winback.cli.app import app

    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # `from winback.cli.main import app`: the app with every command
        return load()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def named_command(argv: list[str]) -> str | None:
    """The command of `argv` when it is known and comes right after the global options (`--db X`, `--lang X`,
    `--db=X`, `--lang=X`, in any order); None otherwise (no command, `--help` or another option first, an unknown
    name)."""
    i = 0
    while i < len(argv):
        if argv[i] in ("--db", "--lang"):
            i += 2
        elif argv[i].startswith(("--db=", "--lang=")):
            i += 1
        else:
            break
    name = argv[i] if i < len(argv) else None
    return name if name in COMMAND_MODULES else None


def command(lang: str | None = None, *, only: str | None = None) -> click.Command:
    """The click command tree of the CLI, its help and click's messages in `lang` (default: from argv/settings);
    `only`: just the tree of that top-level command's module (what `winback <only> …` needs)."""
    app = load((COMMAND_MODULES[only],) if only in COMMAND_MODULES else MODULES)
    cmd = typer.main.get_command(app)
    localize(cmd, lang or startup_lang())
    return cmd


def main() -> None:
    from winback.cli import remote  # while `winback serve` holds the warehouse, commands go through it

    argv = sys.argv[1:]
    remote.prepare(argv)
    try:
        command(only=named_command(argv))(prog_name="winback")
    except SystemExit as exc:
        _leave(exc.code)
        raise


def _leave(code: object) -> None:
    """End the process now, without Python's teardown, when nothing is left to it: an int exit code, the app's
    warehouse closed (its checkpoint made), no thread but daemons, no profiler or tracer (`python -m cProfile -o`,
    a debugger: they write after), stdout and stderr flushed; the atexit handlers still run. Returns (the caller
    re-raises) in any other case."""
    from winback.cli.app import state

    if not isinstance(code, int) and code is not None:
        return
    if state.app is not None and not state.app.closed:
        return
    if any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate()):
        return
    if sys.getprofile() is not None or sys.gettrace() is not None:  # a profiler or tracer writes its output after
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    atexit._run_exitfuncs()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
