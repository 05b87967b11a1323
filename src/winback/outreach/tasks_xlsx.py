"""The task sheet as an XLSX file: written with xlsxwriter (constant memory, one worksheet per store and guide,
after an instructions sheet), read back with openpyxl (read-only). File I/O only: the rows come from the service.

Columns: the member card (task id, campaign, store, guide, priority, name, masked phone, tier, last purchase and
what, favourite category, purchase cycle, coupon code, the rendered script, due date), then the columns a guide
fills in: outcome (a drop-down of the six outcomes), note, who, date. Headers are in the user's language; the reader
knows both languages, so a sheet exported in one language imports under the other.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from winback.common.export import xml_safe
from winback.errors import InputError
from winback.i18n import N_, _, t
from winback.outreach.tasks import LABELS, OUTCOMES

#: (key, header msgid, column width); the headers are written in the user's language
COLUMNS = (
    ("task_id", N_("task id"), 22),
    ("campaign", N_("campaign"), 16),
    ("store", N_("store"), 12),
    ("guide", N_("guide"), 10),
    ("priority", N_("priority"), 7),
    ("member", N_("member"), 10),
    ("phone", N_("mobile phone"), 13),
    ("tier", N_("tier"), 8),
    ("last_purchase", N_("last purchase"), 11),
    ("last_items", N_("last bought"), 14),
    ("favourite", N_("favourite category"), 10),
    ("cycle_days", N_("purchase cycle (days)"), 9),
    ("coupon", N_("coupon code"), 16),
    ("script", N_("script"), 60),
    ("due", N_("due"), 11),
    ("outcome", N_("outcome"), 10),
    ("note", N_("remark"), 24),
    ("who", N_("recorded by"), 10),
    ("when", N_("date"), 11),
)
#: the headers of sheets exported before the catalogue (zh), still read back
LEGACY_HEADERS = {
    "任务号": "task_id",
    "活动": "campaign",
    "门店": "store",
    "导购": "guide",
    "优先级": "priority",
    "会员": "member",
    "手机": "phone",
    "等级": "tier",
    "最近购买": "last_purchase",
    "最近买了": "last_items",
    "常买品类": "favourite",
    "购买周期(天)": "cycle_days",
    "券码": "coupon",
    "话术": "script",
    "截止": "due",
    "结果": "outcome",
    "备注": "note",
    "记录人": "who",
    "日期": "when",
}
FILL_IN = ("outcome", "note", "who", "when")
INSTRUCTIONS = N_("how to")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(store: str, guide: str, taken: set[str]) -> str:
    """A worksheet name (≤ 31 characters, none of []:*?/\\) unique in the workbook."""
    base = _BAD_SHEET_CHARS.sub("_", xml_safe(f"{store}-{guide}"))[:28] or "sheet"
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base[:26]}~{n}", n + 1
    taken.add(name.lower())
    return name


def write_workbook(
    path: Path, groups: Sequence[tuple[str, str, Sequence[Mapping[str, Any]]]], lang: str, now: dt.datetime
) -> list[str]:
    """Write (store name, guide name, card rows) groups to `path` atomically (a temporary file renamed into
    place, 0600). Returns the worksheet names. Streamed (outreach.xlsx_stream): constant memory."""
    from winback.outreach.xlsx_stream import DATE, FILL, HEAD, WRAP, Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tasks-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    names: list[str] = []
    keys = [k for k, *_ in COLUMNS]
    headers = [t(h, lang) for _k, h, _w in COLUMNS]
    widths = [w for *_, w in COLUMNS]
    head_styles = [FILL if k in FILL_IN else HEAD for k in keys]
    styles = [WRAP if k == "script" else DATE if k in ("last_purchase", "due", "when") else 0 for k in keys]
    choices = [t(LABELS[o], lang) for o in OUTCOMES]
    outcome = keys.index("outcome")
    try:
        wb = Workbook(tmp)
        _instructions(wb, lang, now)
        taken = {t(INSTRUCTIONS, lang).lower()}
        for store, guide, rows in groups:
            name = sheet_name(store, guide, taken)
            names.append(name)
            ws = wb.sheet(name, widths, rows=len(rows) + 1)
            ws.row(headers, head_styles)
            for r in rows:
                ws.row([r.get(k) for k in keys], styles)
            ws.close((outcome, choices))
        wb.close()
        os.chmod(tmp, 0o600)  # private whatever the umask: the sheet lists members (and phones with --show-phones)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return names


def _instructions(wb: Any, lang: str, now: dt.datetime) -> None:
    from winback.outreach.xlsx_stream import HEAD, WRAP

    ws = wb.sheet(t(INSTRUCTIONS, lang), [16, 70], freeze=False)
    lines = [
        (t("exported", lang), f"{now:%Y-%m-%d %H:%M}"),
        (t("how to fill in", lang), t(HOW_TO, lang)),
    ]
    lines += [(t(LABELS[o], lang), o if lang == "zh" else t(LABELS[o], "zh")) for o in OUTCOMES]
    for a, b in lines:
        ws.row([a, b], [HEAD, WRAP])
    ws.close()


HOW_TO = N_(
    "One sheet per guide. After contacting a member pick an outcome; note, who and date are optional (the date "
    "defaults to the import day). Read it back with `winback tasks import FILE`; importing again records nothing "
    "twice, and rows with problems are listed with the reason."
)


def _header_keys() -> dict[str, str]:
    out = {}
    out = dict(LEGACY_HEADERS)
    for key, header, _width in COLUMNS:
        out[t(header, "zh")] = key
        out[header.lower()] = key
        out[key] = key
    return out


def _key(known: Mapping[str, str], header: object) -> str:
    text = "" if header is None else str(header).strip()
    return known.get(text) or known.get(text.lower(), "")


def read_workbook(path: Path) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(sheet, row number as Excel shows it, {column key: cell value}) of every data row of every sheet whose
    first row has a task id and an outcome column."""
    import openpyxl

    if not path.exists():
        raise InputError(
            _("the task sheet {path} does not exist", path=path), hint=_("Give the file `winback tasks export` wrote.")
        )
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for a file that is not XLSX
        raise InputError(
            _(
                "cannot read {path} as an XLSX workbook (the reader says: {kind})",
                path=path,
                kind=type(exc).__name__,
            ),
            hint=_("Save the sheet as .xlsx (Excel or WPS: Save as Excel workbook) and import it again."),
        ) from None
    known = _header_keys()
    try:
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            header = next(rows, None)
            if not header:
                continue
            keys = [_key(known, h) for h in header]
            if "task_id" not in keys or "outcome" not in keys:
                continue
            for i, values in enumerate(rows, start=2):
                # a row ends at its last filled cell: the columns after it are empty, not missing
                cells = {k: v for k, v in itertools.zip_longest(keys, values) if k}
                if any(v not in (None, "") for v in cells.values()):
                    yield ws.title, i, cells
    finally:
        wb.close()
