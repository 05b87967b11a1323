"""Reading a short-link click log: CSV (UTF-8, a header naming code or url, clicked_at or time, optional client /
user_agent / ip) or JSON lines (.jsonl / .ndjson, one object a line with the same keys)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from winback.errors import InputError
from winback.i18n import _
from winback.outreach.links import Click, read_click

MAX_BYTES = 512 * 1024 * 1024


def read_clicks(path: Path) -> list[Click]:
    if not path.is_file():
        raise InputError(_("click log {file} does not exist", file=path), hint=_("Fix the path."))
    if path.stat().st_size > MAX_BYTES:
        raise InputError(
            _("click log {file} is larger than {limit} MiB", file=path.name, limit=MAX_BYTES // 2**20),
            hint=_("Split it into smaller files and import them one by one."),
        )
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except ValueError as exc:
                raise InputError(
                    _("{file} line {n} is not JSON: {error}", file=path.name, n=n, error=exc),
                    hint=_("One JSON object a line, e.g. {example}", example='{"code": "…", "clicked_at": "…"}'),
                ) from None
            if not isinstance(raw, dict):
                raise InputError(_("{file} line {n} is not a JSON object", file=path.name, n=n))
            out.append(read_click(raw, f"{path.name} line {n}"))
        return out
    rows = list(csv.DictReader(text.splitlines()))
    return [read_click({str(k).strip().lower(): v for k, v in r.items() if k}, f"{path.name} row {n}")
            for n, r in enumerate(rows, 1)]  # fmt: skip
