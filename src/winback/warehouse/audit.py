"""The audit log (migration 010's `audit_log`, shared by the web console and the CLI): one entry for each write,
export or phone reveal someone must be able to account for later — who, when, what, which file or rows."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections.abc import Sequence
from typing import Any, Protocol


class Executes(Protocol):
    """What this module needs of a warehouse: a DuckDBEngine or a DuckDB connection."""

    def execute(self, sql: str, params: Sequence[object] | None = ..., /) -> Any: ...


def os_actor() -> str:
    """Who runs a CLI command, as the audit log names them: `cli:<operating-system user>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def record_audit(
    db: Executes,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    target: str | None,
    detail: dict[str, Any] | None = None,
    role: str | None = None,
    ip: str | None = None,
) -> None:
    """One audit entry (action: phone_reveal | export | …; target: what, e.g. a file name; detail: the rest)."""
    db.execute(
        "INSERT INTO audit_log (logged_at, username, role, action, target, detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [at, actor, role, action, target, json.dumps(detail, ensure_ascii=False, default=str) if detail else None, ip],
    )
