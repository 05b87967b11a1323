"""The plan as a workbook for the HQ meeting (and the history matrix alone): one sheet per part, headers in the
user's language, number formats, frozen header row and label columns. Written through the house's safe file
(common/export.private_file: 0600, renamed into place) with text cells only as strings (no formulas)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from winback.common.export import private_file, xml_safe
from winback.i18n import N_, t
from winback.planner.types import HistoryResult

MONEY, INT, RATIO, ONE = "#,##0", "#,##0", "0.0%", "#,##0.0"

SHEET_HISTORY, SHEET_STATUS, SHEET_GAP = N_("History"), N_("Status quo"), N_("Gap")
SHEET_MEASURES, SHEET_PHASES = N_("Measures"), N_("Phase strategy")

H_PERIOD, H_STAGE, H_TIER, H_MEMBERS = N_("Period"), N_("Lifecycle stage"), N_("Tier"), N_("Members")
H_REPS, H_RATE, H_AOV, H_CONTRIB = N_("Repurchasers"), N_("Repurchase rate"), N_("AOV"), N_("Contribution")
H_YOY_RATE, H_YOY_AOV, H_YOY_CONTRIB = (N_("Rate change YoY"), N_("AOV change YoY"), N_("Contribution change YoY"))
H_LOW95, H_HIGH95, H_LOW80, H_HIGH80 = (
    N_("Revenue low (95 %)"),
    N_("Revenue high (95 %)"),
    N_("Revenue low (80 %)"),
    N_("Revenue high (80 %)"),
)
H_REPS_LOW, H_REPS_HIGH = N_("Repurchasers low (95 %)"), N_("Repurchasers high (95 %)")
H_STATUS_QUO, H_TARGET, H_GAP = N_("Status quo revenue"), N_("Target revenue"), N_("Gap")
H_MEASURE, H_LEVER, H_AUDIENCE, H_RUNS = N_("Measure"), N_("Lever"), N_("Audience"), N_("Runs")
H_GAIN, H_COST, H_HOURS, H_MESSAGES, H_COUPONS = (
    N_("Expected incremental revenue"),
    N_("Cost"),
    N_("Guide hours"),
    N_("Messages"),
    N_("Coupons redeemed"),
)
H_SOURCE, H_DETAIL = N_("Effect source"), N_("Effect basis")
H_PHASE, H_START, H_END, H_GROUP, H_STRATEGY, H_PLAY, H_DETAILS, H_CHANNEL = (
    N_("Phase"),
    N_("Start"),
    N_("End"),
    N_("Target group"),
    N_("Strategy"),
    N_("Play"),
    N_("Details"),
    N_("Promotion channel"),
)
H_PHASE_TARGET, H_SCENARIO = N_("Phase target (incremental revenue)"), N_("Scenario")
TOTAL = N_("Total")
NO_TIER = N_("(no tier)")


def _sheet(
    book: Any,
    name: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    formats: Sequence[str | None],
    freeze_cols: int = 0,
) -> None:
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    fmts = [book.add_format({"num_format": f}) if f else None for f in formats]
    ws = book.add_worksheet(xml_safe(name)[:31])
    for j, h in enumerate(headers):
        ws.write_string(0, j, xml_safe(h), head)
        ws.set_column(j, j, max(10, min(28, 2 * len(h) + 2)))
    ws.freeze_panes(1, freeze_cols)
    for i, row in enumerate(rows, start=1):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_boolean(i, j, v)
            elif isinstance(v, (int, float)):
                ws.write_number(i, j, float(v), fmts[j] if j < len(fmts) else None)
            else:
                ws.write_string(i, j, xml_safe(str(v)))
    if rows:
        ws.autofilter(0, 0, len(rows), len(headers) - 1)


def _xlsxwriter() -> Any:
    import xlsxwriter

    return xlsxwriter


def _stage_names(stages: Sequence[Mapping[str, str]], lang: str) -> dict[str, str]:
    return {s["stage"]: s.get(lang if lang in ("zh", "en") else "zh", s["stage"]) for s in stages}


def _tier(tier: str, lang: str) -> str:
    return tier if tier else t(NO_TIER, lang)


def _history_rows(history: HistoryResult, lang: str) -> list[list[object]]:
    names = _stage_names(history.stages, lang)
    rows: list[list[object]] = []
    for p in history.periods:
        for c in [*p.cells, p.total]:
            ch = p.change.get(f"{c.stage}/{c.tier}", {})
            stage = t(TOTAL, lang) if c.stage == "*" else names.get(c.stage, c.stage)
            tier = "" if c.tier == "*" else _tier(c.tier, lang)
            rows.append(
                [
                    p.period.label(),
                    stage,
                    tier,
                    c.members,
                    c.repurchasers,
                    c.rate,
                    c.aov,
                    c.revenue,
                    ch.get("rate"),
                    ch.get("aov"),
                    ch.get("contribution"),
                ]
            )
    return rows


HISTORY_HEADERS = (
    H_PERIOD,
    H_STAGE,
    H_TIER,
    H_MEMBERS,
    H_REPS,
    H_RATE,
    H_AOV,
    H_CONTRIB,
    H_YOY_RATE,
    H_YOY_AOV,
    H_YOY_CONTRIB,
)
HISTORY_FORMATS = (None, None, None, INT, INT, RATIO, MONEY, MONEY, RATIO, RATIO, RATIO)


def write_history(history: HistoryResult, path: Path, lang: str) -> list[str]:
    xlsxwriter = _xlsxwriter()
    with private_file(path) as fh:
        book = xlsxwriter.Workbook(fh, {"strings_to_formulas": False, "strings_to_urls": False})
        _sheet(
            book,
            t(SHEET_HISTORY, lang),
            [t(h, lang) for h in HISTORY_HEADERS],
            _history_rows(history, lang),
            HISTORY_FORMATS,
            3,
        )
        book.close()
    return [t(SHEET_HISTORY, lang)]


def _cell_rows(body: Mapping[str, Any], lang: str) -> tuple[list[list[object]], list[list[object]]]:
    names = _stage_names(body["stages"], lang)
    status, gap = [], []
    for c in body["cells"]:
        stage, tier = names.get(c["stage"], c["stage"]), _tier(c["tier"], lang)
        ri, vi = c["repurchasers_interval"], c["revenue_interval"]
        status.append(
            [
                stage,
                tier,
                c["members"],
                c["repurchasers"],
                ri["low"],
                ri["high"],
                c["rate"],
                c["aov"],
                c["revenue"],
                vi["low_80"],
                vi["high_80"],
                vi["low"],
                vi["high"],
            ]
        )
        gap.append([stage, tier, c["members"], c["revenue"], c["target_revenue"], c["gap"]])
    sq = body["status_quo"]
    status.append(
        [
            t(TOTAL, lang),
            "",
            sq["members"],
            sq["repurchasers"]["value"],
            sq["repurchasers"]["low"],
            sq["repurchasers"]["high"],
            sq["rate"],
            sq["aov"],
            sq["revenue"]["value"],
            sq["revenue"]["low_80"],
            sq["revenue"]["high_80"],
            sq["revenue"]["low"],
            sq["revenue"]["high"],
        ]
    )
    gap.append([t(TOTAL, lang), "", sq["members"], sq["revenue"]["value"], body["existing_target"], body["gap"]])
    return status, gap


def _measure_rows(
    body: Mapping[str, Any], solution: Mapping[str, Any], lang: str, measure_names: Mapping[str, str]
) -> list[list[object]]:
    names = _stage_names(body["stages"], lang)
    rows = []
    for o in solution.get("chosen", []):
        e = o["effect"]
        rows.append(
            [
                measure_names.get(o["measure"], o["measure"]),
                names.get(o["stage"], o["stage"]),
                _tier(o["tier"], lang),
                t(H_RATE if o["lever"] == "rate" else H_AOV, lang),
                o["audience"],
                o["runs"],
                o["gain"],
                o["cost"],
                o["guide_hours"],
                o["messages"],
                o["coupons"],
                e["source"],
                e["detail"],
            ]
        )
    return rows


def write_plan(
    path: Path,
    body: Mapping[str, Any],
    solution: Mapping[str, Any],
    history: HistoryResult | None,
    lang: str,
    measure_names: Mapping[str, str] | None = None,
) -> list[str]:
    """The five sheets (history only when the warehouse has it); returns the sheet names."""
    xlsxwriter = _xlsxwriter()
    status, gap = _cell_rows(body, lang)
    sheets = []
    with private_file(path) as fh:
        book = xlsxwriter.Workbook(fh, {"strings_to_formulas": False, "strings_to_urls": False})
        if history is not None:
            _sheet(
                book,
                t(SHEET_HISTORY, lang),
                [t(h, lang) for h in HISTORY_HEADERS],
                _history_rows(history, lang),
                HISTORY_FORMATS,
                3,
            )
            sheets.append(t(SHEET_HISTORY, lang))
        _sheet(book, t(SHEET_STATUS, lang), [t(h, lang) for h in (
            H_STAGE, H_TIER, H_MEMBERS, H_REPS, H_REPS_LOW, H_REPS_HIGH, H_RATE, H_AOV, H_CONTRIB, H_LOW80, H_HIGH80,
            H_LOW95, H_HIGH95)], status, (None, None, INT, ONE, ONE, ONE, RATIO, MONEY, MONEY, MONEY, MONEY, MONEY,
                                          MONEY), 2)  # fmt: skip
        _sheet(
            book,
            t(SHEET_GAP, lang),
            [t(h, lang) for h in (H_STAGE, H_TIER, H_MEMBERS, H_STATUS_QUO, H_TARGET, H_GAP)],
            gap,
            (None, None, INT, MONEY, MONEY, MONEY),
            2,
        )
        _sheet(book, t(SHEET_MEASURES, lang), [t(h, lang) for h in (
            H_MEASURE, H_STAGE, H_TIER, H_LEVER, H_AUDIENCE, H_RUNS, H_GAIN, H_COST, H_HOURS, H_MESSAGES, H_COUPONS,
            H_SOURCE, H_DETAIL)], _measure_rows(body, solution, lang, measure_names or {}),
            (None, None, None, None, INT, INT, MONEY, MONEY, ONE, INT, ONE, None, None), 3)  # fmt: skip
        phase_rows = [
            [
                p["phase_name"],
                p["start"],
                p["end"],
                p["group"],
                p["strategy"],
                p["play"],
                p["details"],
                p["channel"],
                p["scenario"],
                p["target_incremental_revenue"],
                p["messages"],
                p["guide_hours"],
                p["coupons"],
                p["cost"],
            ]
            for p in solution.get("phases", [])
        ]
        _sheet(book, t(SHEET_PHASES, lang), [t(h, lang) for h in (
            H_PHASE, H_START, H_END, H_GROUP, H_STRATEGY, H_PLAY, H_DETAILS, H_CHANNEL, H_SCENARIO, H_PHASE_TARGET,
            H_MESSAGES, H_HOURS, H_COUPONS, H_COST)], phase_rows,
            (None, None, None, None, None, None, None, None, None, MONEY, INT, ONE, ONE, MONEY), 1)  # fmt: skip
        sheets += [t(s, lang) for s in (SHEET_STATUS, SHEET_GAP, SHEET_MEASURES, SHEET_PHASES)]
        book.close()
    return sheets
