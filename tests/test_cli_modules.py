"""The CLI imports only the module of the command it runs (cli/main.py COMMAND_MODULES): the map must name the
module that registers each top-level command, and cover them all."""

from __future__ import annotations

import subprocess
import sys

import typer.main

from winback.cli import main


def test_every_command_is_mapped_to_the_module_that_registers_it() -> None:
    full = typer.main.get_command(main.load())
    assert sorted(full.commands) == sorted(main.COMMAND_MODULES)  # type: ignore[attr-defined]
    for name, module in main.COMMAND_MODULES.items():
        cmd = full.commands[name]  # type: ignore[attr-defined]
        callback = cmd.callback if cmd.callback is not None else None
        registered_in = getattr(callback, "__module__", None) or ""
        if isinstance(cmd, typer.main.TyperGroup) or hasattr(cmd, "commands"):  # a group: its subcommands' module
            registered_in = next(iter(cmd.commands.values())).callback.__module__
        assert registered_in.startswith(f"winback.cli.{module}"), (name, registered_in)
    assert sorted(set(main.COMMAND_MODULES.values())) == sorted(main.MODULES)


def test_a_named_command_is_found_after_the_global_options() -> None:
    assert main.named_command(["--db", "x.duckdb", "--lang", "en", "refresh", "--json"]) == "refresh"
    assert main.named_command(["--db=x.duckdb", "campaign", "list"]) == "campaign"
    assert main.named_command(["--help", "refresh"]) is None  # the whole help
    assert main.named_command(["nosuch"]) is None
    assert main.named_command([]) is None


def test_a_command_alone_loads_only_its_module() -> None:
    code = (
        "import sys; from winback.cli import main; main.command('en', only='refresh'); "
        "print(sorted(m for m in sys.modules if m.startswith('winback.cli.') and m.endswith('_cmd')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['winback.cli.lifecycle_cmd']"
