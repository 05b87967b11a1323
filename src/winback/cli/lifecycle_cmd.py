"""`winback refresh | segments | transitions | members | explain`: build and read lifecycle snapshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, err_console, fmt, handle_errors, pct, say, table
from winback.cli.when import parse_date
from winback.errors import InputError

if TYPE_CHECKING:
    from winback.lifecycle.refresh import RefreshResult
    from winback.lifecycle.results import Explanation, MemberList, SegmentSummary, Transitions

JSON_OPT = typer.Option(False, "--json", help="Print one JSON object.")
SNAPSHOT_KEYS = (
    "recency_days",
    "orders",
    "purchase_days",
    "monetary",
    "aov",
    "tenure_days",
    "cycle_days",
    "overdue_ratio",
    "p_alive",
    "expected_purchases_90d",
    "expected_revenue_90d",
    "clv",
    "clv_flag",
    "r_score",
    "f_score",
    "m_score",
)
MEMBER_KEYS = ("member_id", "name", "phone", "store_id", "segment", "recency_days", "orders", "monetary", "p_alive")
CONTACT_KEYS = ("member_id", "name", "phone", "wechat_id", "store_id", "guide_id")


def _required_date(value: str, option: str) -> dt.date:
    day = parse_date(value, option)
    if day is None:
        raise InputError(f"{option} is required", hint="Write it as YYYY-MM-DD.")
    return day


def _render_refresh(r: RefreshResult) -> None:
    console.print(f"snapshot at [bold]{r.as_of}[/]: {r.members:,} members ({r.engine}, {round(r.seconds, 3)} s)")
    m = r.model
    if m is not None and m.name:
        params = ", ".join(f"{k}={v:.4g}" for k, v in m.params.items())
        console.print(f"{m.name} ({m.time_unit}): {params}; log-likelihood {fmt(m.loglik)}")
    for scheme, counts in r.segments.items():
        console.print(table(scheme, ["segment", "members"], counts.items()))
    for note in r.notes:
        err_console.print(f"note: {note}", highlight=False)


@app.command("refresh")
@handle_errors()
def refresh_cmd(
    as_of: str = typer.Option(
        None,
        "--as-of",
        help="Snapshot date; orders before it count (default: the day after the last order, at most tomorrow).",
    ),
    engine: str = typer.Option(None, "--engine", help="duckdb or spark (default: $WINBACK_ENGINE, else duckdb)."),
    orders_parquet: str = typer.Option(
        None, "--orders-parquet", help="Spark: read orders from this Parquet path/glob (your data lake) instead."
    ),
    members_parquet: str = typer.Option(
        None, "--members-parquet", help="Spark: read members from this Parquet path/glob instead."
    ),
    rules: list[Path] = typer.Option(None, "--rules", help="Extra rules file(s) (TOML) with your own schemes."),
    history: str = typer.Option(
        None,
        "--history",
        help="'monthly': also build a snapshot on the first day of every month since the first order.",
    ),
    model: str = typer.Option(
        None, "--model", help="Purchase model: mbg_nbd (default; one-time buyers can be gone) or bg_nbd (classic)."
    ),
    allow_future: bool = typer.Option(
        False, "--allow-future", help="Accept an --as-of after tomorrow (refused by default: time runs one way)."
    ),
    json_output: bool = JSON_OPT,
) -> None:
    """Build the member snapshot (recency, frequency, monetary, cycle, P(alive), CLV) and every scheme's segments."""
    wb = current()
    day = parse_date(as_of, "--as-of")
    progress = None if json_output else (lambda msg: err_console.print(f"… {msg}", highlight=False))
    result = wb.lifecycle.refresh(
        day,
        rules_files=rules or (),
        history=history,
        progress=progress,
        engine=engine,
        orders_parquet=orders_parquet,
        members_parquet=members_parquet,
        model=model,
        allow_future=allow_future,
    )
    emit(result, json_output, _render_refresh)


def _render_segments(d: SegmentSummary) -> None:
    head = ([d.by] if d.by else []) + ["segment", "label", "members", "share", "avg recency", "monetary"]
    rows = [
        ([r.group] if d.by else []) + [r.segment, r.label, r.members, pct(r.share), r.avg_recency_days, r.monetary]
        for r in d.segments
    ]
    console.print(table(f"{d.scheme} at {d.as_of.isoformat()} ({d.members:,} members)", head, rows))


@app.command("segments")
@handle_errors()
def segments_cmd(
    scheme: str = typer.Option("seed_cn", "--scheme", help="seed_cn, months, cycle, lifecycle, rfm, value or yours."),
    as_of: str = typer.Option(None, "--as-of", help="Snapshot date (default: the latest)."),
    by: str = typer.Option(None, "--by", help="Break down by store, tier, channel or guide."),
    json_output: bool = JSON_OPT,
) -> None:
    """Members per segment of a scheme."""
    wb = current()
    result = wb.lifecycle.segments(scheme=scheme, as_of=parse_date(as_of, "--as-of"), by=by)
    emit(result, json_output, _render_segments)


def _render_transitions(d: Transitions) -> None:
    console.print(
        f"{d.scheme}: {d.date_from.isoformat()} → {d.date_to.isoformat()}: stayed {d.stayed:,}, slid {d.slid:,}, "
        f"woke up {d.woke_up:,}"
    )
    rows = [[m.from_label, m.to_label, m.members] for m in d.moves if m.from_segment != m.to_segment]
    console.print(table(None, ["from", "to", "members"], rows))


@app.command("transitions")
@handle_errors()
def transitions_cmd(
    date_from: str = typer.Option(..., "--from", help="Earlier snapshot date."),
    date_to: str = typer.Option(..., "--to", help="Later snapshot date."),
    scheme: str = typer.Option("seed_cn", "--scheme", help="Scheme to compare."),
    json_output: bool = JSON_OPT,
) -> None:
    """How members moved between segments from one snapshot to another (who slid, who woke up)."""
    wb = current()
    d1, d2 = _required_date(date_from, "--from"), _required_date(date_to, "--to")
    emit(wb.lifecycle.transitions(date_from=d1, date_to=d2, scheme=scheme), json_output, _render_transitions)


def _render_members(d: MemberList) -> None:
    if d.file is not None:
        console.print(f"wrote {d.count:,} members to {d.file}")
        return
    keys = CONTACT_KEYS if d.scheme == "contacts" else MEMBER_KEYS
    rows = [[m[c] for c in keys] for m in d.rows]
    console.print(table(f"{d.scheme} at {d.as_of.isoformat()}", list(keys), rows))


@app.command("members")
@handle_errors()
def members_cmd(
    segment: list[str] = typer.Option(None, "--segment", help="Segment(s) of --scheme (repeatable)."),
    store: list[str] = typer.Option(None, "--store", help="Home store id(s) (repeatable)."),
    scheme: str = typer.Option("seed_cn", "--scheme", help="Scheme the segments belong to."),
    as_of: str = typer.Option(None, "--as-of", help="Snapshot date (default: the latest)."),
    export: Path = typer.Option(None, "--export", help="Write the list to FILE (.xlsx, .csv or .parquet)."),
    limit: int = typer.Option(
        None, "--limit", help="At most this many members (default: 50 on screen, all when exporting)."
    ),
    show_phones: bool = typer.Option(
        False, "--show-phones", help="Full phone numbers (e.g. a call list for a store); masked by default."
    ),
    contacts: bool = typer.Option(
        False, "--contacts", help="List the guide-WeChat contacts instead (matching no ERP member: not members)."
    ),
    json_output: bool = JSON_OPT,
) -> None:
    """List members of segments (phones masked unless --show-phones), on screen or exported to a file."""
    wb = current()
    result = wb.lifecycle.members(
        scheme=scheme,
        segments=segment or None,
        stores=store or None,
        as_of=parse_date(as_of, "--as-of"),
        limit=limit if limit is not None else (None if export else 50),
        show_phones=show_phones,
        export=export,
        contacts=contacts,
        progress=None if json_output else (lambda msg: err_console.print(f"… {msg}", highlight=False)),
    )
    emit(result, json_output, _render_members)


def _render_explain(d: Explanation, lang: str = "zh") -> None:
    console.print(f"member [bold]{d.member_id}[/] at {d.as_of.isoformat()}")
    console.print(table(None, ["value", ""], [[k, d.snapshot[k]] for k in SNAPSHOT_KEYS]))
    rows = [[n, v.segment, v.label, v.rule] for n, v in d.schemes.items()]
    console.print(table("segments", ["scheme", "segment", "label", "rule matched"], rows))
    if d.cycle:
        c = d.cycle
        console.print(
            f"cycle = ({c.span_days} + {c.k} × {fmt(c.prior_days)}) / ({c.n_intervals} + "
            f"{c.k}) = {fmt(c.value)} days (prior from {c.prior_source})"
        )
    for name, m in d.models.items():
        console.print(f"{name}: " + ", ".join(f"{k}={v:.4g}" for k, v in m["params"].items()))
    ww = d.worth_waking
    if ww:
        verdict = say(lang, "值得唤醒" if ww["worth_waking"] else "不在值得唤醒名单",
                      "worth waking" if ww["worth_waking"] else "not on the worth-waking list")  # fmt: skip
        console.print(
            f"{verdict}: {say(lang, '风险价值', 'value at stake')} {fmt(ww['value_at_stake'])} "
            f"{say(lang, '元/年', 'RMB/year')}",
            highlight=False,
        )
        console.print(ww["rule"], highlight=False)


@app.command("explain")
@handle_errors()
def explain_cmd(
    member_id: str = typer.Argument(..., help="Member id."),
    as_of: str = typer.Option(None, "--as-of", help="Snapshot date (default: the latest)."),
    json_output: bool = JSON_OPT,
) -> None:
    """Every number behind a member's segments and scores: rules matched, cycle, breakpoints, model parameters."""
    wb = current()
    result = wb.lifecycle.explain(member_id, as_of=parse_date(as_of, "--as-of"))
    emit(result, json_output, lambda d: _render_explain(d, wb.settings.lang))
