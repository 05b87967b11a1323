"""`winback overview`: the brand at a glance (valid members, dormancy layers, lifecycle stages, who to wake)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, fmt, handle_errors, pct, say, table
from winback.cli.when import parse_date
from winback.i18n import N_, t

if TYPE_CHECKING:
    from winback.overview.service import Overview


def _name(lang: str, zh: str | None, en: str | None) -> str:
    """A name the service gives in both languages (segment names, the rule), in `lang` ("both": "中文 · English")."""
    return say(lang, zh or en or "", en or zh or "")


#: the data-quality rows: label, key of the quality block
QUALITY_ROWS = (
    (N_("valid phone (mobile or landline)"), "valid_phone"),
    (N_("contactable (mobile, consent, not opted out)"), "contactable"),
    (N_("invalid phone"), "invalid_phone"),
    (N_("missing phone"), "missing_phone"),
)
SCHEMES = (
    ("seed_cn", N_("dormancy layers (days since last purchase)")),
    ("lifecycle", N_("lifecycle stages")),
)


def render_overview(overview: Overview | Mapping[str, Any], lang: str = "both") -> None:
    """Print the overview (the typed result, or its JSON form as the demo summary carries it); lang "both" labels
    everything in Chinese and English."""
    d = overview.to_dict() if hasattr(overview, "to_dict") else overview
    q = d["quality"]

    def share(m: dict[str, Any]) -> str:
        return pct(m.get("share")) if m.get("share") is not None else "—"

    dup = q.get("suspected_duplicate")
    rows = [(t("members", lang), fmt(q["members"]), "")]
    rows += [(t(label, lang), fmt(q[key]["count"]), share(q[key])) for label, key in QUALITY_ROWS]
    rows.append((t("suspected duplicates", lang), fmt(dup["count"]) if dup else "—", share(dup) if dup else ""))
    heads = ["", t("count", lang), t("share", lang)]
    console.print(table(t("member data quality", lang), heads, rows))
    for scheme, title in SCHEMES:
        segs = d["segments"].get(scheme) or []
        if lang == "both":
            heads = [t("segment", lang), "中文", "English", t("members", lang), t("share", lang)]
            body = [(s["segment"], s["zh"], s["en"], s["members"], pct(s["share"])) for s in segs]
        else:
            heads = [t("segment", lang), t("name", lang), t("members", lang), t("share", lang)]
            body = [(s["segment"], _name(lang, s["zh"], s["en"]), s["members"], pct(s["share"])) for s in segs]
        console.print(table(f"{t(title, lang)} — {d['as_of']}", heads, body))
    contacts = d.get("contacts") or {}
    if contacts.get("count"):
        console.print(
            t(
                "plus {count:,} guide-WeChat contacts ({reachable:,} with a valid mobile): they match no ERP member "
                "and are not in the member figures above",
                lang,
                count=contacts["count"],
                reachable=contacts["reachable"],
            ),
            highlight=False,
        )
    _render_worth_waking(d, lang)


def _render_worth_waking(d: Mapping[str, Any], lang: str) -> None:
    """Value at stake per dormancy layer, and the rule in words."""
    ww = d["worth_waking"]
    names = {s["segment"]: _name(lang, s["zh"], s["en"]) for s in d["segments"].get("seed_cn") or []}

    # money in whole 万元 (zh) or thousand yuan (en, and the demo's bilingual summary): numbers that fit the column
    per = 1e4 if lang == "zh" else 1e3

    def wan(v: float) -> str:
        return f"{v / per:,.0f}"

    if lang == "zh":
        stake, future = t("at stake 10k¥/yr", lang), t("365d 10k¥, no campaign", lang)
    else:
        stake, future = t("at stake k¥/yr", lang), t("365d k¥, no campaign", lang)
    heads = [t("segment", lang), t("members", lang), t("worth waking", lang), t("reachable", lang), stake,
             t("likely alive", lang), future]  # fmt: skip
    rows = [
        (
            names.get(r["segment"], r["segment"]),
            r["members"],
            r["worth_waking"],
            r["reachable"],
            wan(r["value_at_stake"]),
            r["likely_alive"],
            wan(r["expected_revenue_365d"]),
        )
        for r in ww["rows"]
    ]
    console.print(table(t("worth waking: value at stake among dormant members", lang), heads, rows))
    console.print(_name(lang, ww.get("rule_zh") or ww["rule"], ww.get("rule_en") or ww["rule"]), highlight=False,
                  markup=False)  # fmt: skip


@app.command("overview")
@handle_errors()
def overview_cmd(
    as_of: str = typer.Option(None, "--as-of", help="Snapshot date (default: the latest refresh)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """The brand at a glance: valid and contactable members, dormancy layers, lifecycle stages, who to wake."""
    wb = current()
    result = wb.overview.overview(parse_date(as_of, "--as-of") if as_of else None)
    emit(result, json_output, lambda ov: render_overview(ov, wb.settings.lang))
