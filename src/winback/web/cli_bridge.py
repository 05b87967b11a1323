"""The CLI through a running server: while `winback serve` holds the warehouse file, a `winback …` command in
another terminal sends its arguments here instead of failing on the lock (cli/remote.py is the client side), and
gets back exactly what it would have printed, and its exit code.

- Discovery and trust: the server writes `<warehouse>.server` (JSON: url, token, pid), a private file (0600) next
  to the warehouse, and removes it when it stops; only someone who may read that file has the token. The call is
  `POST /api/cli` with `Authorization: Bearer <token>` on loopback; it is not in the OpenAPI (not a public API).
- Running: the CLI registers its runner here when it starts the server (cli/remote.py; the web room imports no
  CLI). Commands run one at a time, on the server's warehouse through their own cursor, in the client's
  language, working directory and terminal width; the batch commands (everything but the read-only ones) run as
  the server's background jobs, one writer at a time with the web's imports and refreshes, while pages are served.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from winback.common.results import Result
from winback.i18n import _
from winback.web.announce import READS, command_of
from winback.web.auth import state_of
from winback.web.errors import Unauthenticated
from winback.web.render import ResultJSON
from winback.web.tokens_service import bearer_of

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.config import Settings

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Ran(Result):
    exit_code: int
    stdout: str
    stderr: str


class CliCall(BaseModel):
    argv: list[str] = Field(max_length=1000)
    cwd: str = Field(max_length=4096)
    lang: str = Field("zh", max_length=8)
    stdin: str | None = Field(None, max_length=1 << 16)
    width: int | None = Field(None, ge=20, le=1000)


#: (the server's app, settings of a language, the call) -> what the command printed; set by the CLI (cli/remote.py)
Runner = Callable[["Winback", Callable[[str], "Settings"], CliCall], Ran]
_runner: list[Runner] = []


def set_runner(runner: Runner) -> None:
    """The CLI's way of running a command in this process (cli/remote.py calls it before `winback serve`)."""
    _runner[:] = [runner]


def has_runner() -> bool:
    return bool(_runner)


@router.post("/api/cli")
def run_cli(body: CliCall, request: Request) -> Response:
    """Run a CLI command for a client holding the server's token; answers {exit_code, stdout, stderr}."""
    root = state_of(request)
    token = bearer_of(request.headers.get("authorization")) or ""
    if not root.cli_token or not hmac.compare_digest(token.encode(), root.cli_token.encode()) or not _runner:
        raise Unauthenticated(
            _("missing or wrong server token"),
            hint=_(
                "The CLI reads the token from the .server file next to the warehouse: run it on the server's "
                "machine, as the same user."
            ),
        )
    runner = _runner[0]
    if command_of(body.argv) in READS:
        return ResultJSON(runner(root.wb, root.settings_in, body))
    holder: dict[str, Any] = {}

    def work(wb: Winback, progress: Callable[..., None]) -> dict[str, Any]:
        holder["ran"] = runner(root.wb, root.settings_in, body)
        return {"exit_code": holder["ran"].exit_code}

    title = " ".join(["winback", *body.argv])[:200]
    job = root.jobs.submit("cli", title, work, username="cli", lang=body.lang)
    job.finished.wait()
    if "ran" not in holder:  # the runner itself broke: the job says how
        err = job.error or {}
        return ResultJSON(Ran(1, "", f"{err.get('type')}: {err.get('message')}\n"))
    return ResultJSON(holder["ran"])
