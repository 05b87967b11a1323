"""`winback dedupe` on the command line: one JSON object, apply, undo, clear errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from winback.cli.main import app

runner = CliRunner()


def _run(db: Path, *args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["--db", str(db), "--lang", "en", "dedupe", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_report_apply_undo_as_json(planted_db: tuple[Path, Any], tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    shutil.copy(planted_db[0], db)
    code, report = _run(db, "--sample", "2")
    assert code == 0 and report["applied"] is None and len(report["sample"]) == 2
    code, applied = _run(db, "--apply")
    assert code == 0 and applied["applied"]["members"] == applied["duplicates"]
    code, undone = _run(db, "--undo")
    assert code == 0 and undone["undone"]["merge_id"] == applied["applied"]["merge_id"]
    code, err = _run(db, "--undo")
    assert code == 2 and err["error"]["type"] == "NotFoundError" and "dedupe --apply" in err["error"]["hint"]
    code, err = _run(db, "--apply", "--undo")
    assert code == 2 and "cannot be used together" in err["error"]["message"]
    code, err = _run(db, "--threshold", "0.2")
    assert code == 2 and "got 0.2" in err["error"]["message"]


def test_human_output_masks_phones(planted_db: tuple[Path, Any], tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    shutil.copy(planted_db[0], db)
    result = runner.invoke(app, ["--db", str(db), "--lang", "en", "dedupe", "--sample", "5"])
    assert result.exit_code == 0, result.output
    assert "clusters at p ≥ 0.9" in result.output and "****" in result.output
    assert not re.search(r"1[3-9]\d{9}", result.output)  # no full mobile number anywhere
    assert "nothing merged" in result.output


def test_option_default_is_the_service_default() -> None:
    import inspect

    from winback.cli.dedupe_cmd import dedupe_cmd
    from winback.identity.types import DEFAULT_THRESHOLD

    assert inspect.signature(dedupe_cmd).parameters["threshold"].default.default == DEFAULT_THRESHOLD
