"""The CLI through a running `winback serve` (web/cli_bridge.py is the server side).

Client: `forward(argv)` runs before the command line is parsed. When a server announces itself next to the
warehouse (`<warehouse>.server`, 0600: url, token, pid; its process alive), the command is sent to it
(`POST /api/cli` on loopback with the token) with this terminal's language, working directory and width, and what
the server's run printed is printed here, byte for byte, with its exit code: `--json` output is the same either
way. A password the command would ask for is asked here first and sent as its standard input. No server (or a
stale file): the command runs here as usual.

Server: `winback serve` registers `run_here`, which runs a command in the server's process on the server's app
(its own cursor; the settings are the server's, in the client's language), one command at a time.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.config import Settings

#: the commands that never go through a server
LOCAL = frozenset({"serve", "--help", "-h", "--version"})
_ONE_AT_A_TIME = threading.Lock()


def prepare(argv: list[str]) -> None:
    """Before the command line is parsed: `serve` registers the server's runner; another command goes to the
    server holding its warehouse, if one does (and then exits)."""
    from winback.web.announce import command_of

    if command_of(argv) == "serve":
        register()
    else:
        forward(argv)


# -- the client ---------------------------------------------------------------------------------------------------
def _global_options(argv: list[str]) -> tuple[str | None, str | None]:
    """The --db and --lang given before the command (either `--db X` or `--db=X`)."""
    found: dict[str, str | None] = {"--db": None, "--lang": None}
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        name, eq, value = argv[i].partition("=")
        if name in found:
            if eq:
                found[name] = value
            elif i + 1 < len(argv):
                found[name] = argv[i + 1]
                i += 1
        i += 1
    return found["--db"], found["--lang"]


def announced_server(argv: list[str]) -> tuple[dict[str, Any], str] | None:
    """(the server file's content, the language) when a live server holds this command's warehouse, else None."""
    from winback.config import Settings
    from winback.errors import WinbackError
    from winback.web.announce import command_of, server_file

    name = command_of(argv)
    if name is None or name in LOCAL or any(a in LOCAL for a in argv):
        return None
    db, lang = _global_options(argv)
    try:
        settings = Settings.load(db_path=db, lang=lang)
        found = json.loads(server_file(settings.db_path).read_text(encoding="utf-8"))
        os.kill(int(found["pid"]), 0)  # alive?
    except (OSError, ValueError, KeyError, TypeError, WinbackError):
        return None
    return found, settings.lang


def _stdin_for(argv: list[str], lang: str) -> tuple[list[str], str | None]:
    """(the arguments, what to send as standard input): a password asked for here, or the one piped in."""
    if argv and "users" in argv and ("add" in argv or "reset" in argv) and "--password-stdin" not in argv:
        import getpass

        from winback.i18n import t

        prompt = t("New password: " if "reset" in argv else "Password: ", lang)
        return [*argv, "--password-stdin"], getpass.getpass(prompt) + "\n"
    if "--password-stdin" in argv:
        return argv, sys.stdin.readline()
    return argv, None


def forward(argv: list[str]) -> None:
    """Send the command to the server holding its warehouse and exit with its code; return when there is none."""
    found = announced_server(argv)
    if found is None:
        return
    server, lang = found
    argv, stdin = _stdin_for(argv, lang)
    call = {"argv": ["--lang", lang, *argv], "cwd": os.getcwd(), "lang": lang, "stdin": stdin,
            "width": shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else None}  # fmt: skip
    req = urllib.request.Request(
        f"{server['url']}/api/cli", data=json.dumps(call).encode(), method="POST",
        headers={"Authorization": f"Bearer {server['token']}", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=None) as resp:
            ran = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:  # the server answered, and refused: say so (running here would be locked)
        from winback.cli.output import err_console
        from winback.i18n import t

        body = exc.read().decode("utf-8", "replace")[:500]
        msg = t("the server at {url} refused the command ({status}): {body}", lang, url=server["url"],
                status=exc.code, body=body)  # fmt: skip
        err_console.print(msg, highlight=False, markup=False)
        raise SystemExit(2) from None
    except (urllib.error.URLError, ConnectionError):
        return  # the file outlived its server: run here
    sys.stdout.write(ran["stdout"])
    sys.stdout.flush()
    sys.stderr.write(ran["stderr"])
    sys.stderr.flush()
    raise SystemExit(ran["exit_code"])


# -- the server ---------------------------------------------------------------------------------------------------
def register() -> None:
    """Let the server run the CLI's commands (called before `winback serve` starts)."""
    from winback.web import cli_bridge

    cli_bridge.set_runner(run_here)


@contextlib.contextmanager
def _captured(stdin: str | None, width: int | None) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    from winback.cli.output import console, err_console

    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr, console._width, err_console._width
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin or ""), out, err
    console._width = err_console._width = width or 100
    try:
        yield out, err
    finally:
        sys.stdin, sys.stdout, sys.stderr, console._width, err_console._width = saved


def _lent(wb: Winback, settings_in: Callable[[str], Settings], lent: list[Winback]) -> Callable[..., None]:
    """The root callback for a command run in the server: the server's app (its own cursor), in the asked
    language; the apps it lends are added to `lent` (closed by run_here)."""
    from winback import i18n
    from winback.cli.app import state

    def callback(**params: Any) -> None:
        child = wb.scoped(settings_in(params.get("lang") or "zh"))
        lent.append(child)
        state.app, state.error, state.in_server = child, None, True  # a refresh here sums the pages (cli/app.py)
        i18n.set_lang(child.settings.lang)

    return callback


def run_here(wb: Winback, settings_in: Callable[[str], Settings], call: Any) -> Any:
    """Run one command (`call`: web/cli_bridge.py's CliCall) as `winback <argv>` would have, in this process: a
    cli_bridge.Ran of what it printed and its exit code (click prints usage errors and exits as for a terminal)."""
    from winback.cli.main import command
    from winback.web.cli_bridge import Ran

    lent: list[Winback] = []
    with _ONE_AT_A_TIME, _captured(call.stdin, call.width) as (out, err), contextlib.chdir(Path(call.cwd)):
        cmd = command(call.lang)
        cmd.callback = _lent(wb, settings_in, lent)
        try:
            cmd.main(args=call.argv, prog_name="winback", standalone_mode=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            for child in lent:
                child.close()
    return Ran(code, out.getvalue(), err.getvalue())
