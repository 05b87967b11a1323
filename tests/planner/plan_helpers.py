"""Shared by the planner tests: the brand's now, the back-test's as-of, and the CLI on a planner copy."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from typer.testing import CliRunner

from winback.cli.main import app

NOW = "2026-11-21"
#: one year before the demo brand's last order (2026-11-20): the back-test's as-of
BACKTEST_AS_OF = dt.date(2025, 11, 21)


@dataclass(frozen=True)
class PlannerBrand:
    db: str

    def run(self, *args: str, lang: str = "zh") -> tuple[int, Any, str]:
        res = CliRunner().invoke(app, ["--db", self.db, "--lang", lang, *args], env={"WINBACK_NOW": NOW})
        out = res.stdout
        try:
            data = json.loads(out) if "--json" in args else None
        except json.JSONDecodeError:
            data = None
        return res.exit_code, data, out + (res.stderr if res.stderr_bytes is not None else "")
