"""`winback refresh | segments | transitions | members | explain`: build and read lifecycle snapshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import PAGES_OPT, app, current, pages_wanted
from winback.cli.output import console, emit, err_console, fmt, handle_errors, pct, table
from winback.cli.when import parse_date
from winback.errors import InputError
from winback.i18n import N_, _

if TYPE_CHECKING:
    from winback.app import Winback
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
#: how the snapshot's and a member list's columns are called on screen (--json keeps the keys)
COLUMN_NAMES = {
    "member_id": N_("member"),
    "name": N_("full name"),
    "phone": N_("phone"),
    "wechat_id": N_("WeChat id"),
    "store_id": N_("store"),
    "guide_id": N_("guide"),
    "segment": N_("segment"),
    "recency_days": N_("days since last purchase"),
    "orders": N_("orders"),
    "purchase_days": N_("purchase days"),
    "monetary": N_("monetary"),
    "aov": N_("average order value"),
    "tenure_days": N_("tenure (days)"),
    "cycle_days": N_("purchase cycle (days)"),
    "overdue_ratio": N_("overdue ratio"),
    "p_alive": N_("P(alive)"),
    "expected_purchases_90d": N_("expected purchases, 90 days"),
    "expected_revenue_90d": N_("expected revenue, 90 days"),
    "clv": N_("CLV (365 days)"),
    "clv_flag": N_("CLV flag"),
    "r_score": N_("R score"),
    "f_score": N_("F score"),
    "m_score": N_("M score"),
}


def _required_date(value: str, option: str) -> dt.date:
    day = parse_date(value, option)
    if day is None:
        raise InputError(_("{option} is required", option=option), hint=_("Write it as YYYY-MM-DD."))
    return day


def _render_refresh(r: RefreshResult) -> None:
    console.print(
        _("snapshot at {as_of}: {members:,} members ({engine}, {seconds} s)", as_of=r.as_of, members=r.members,
          engine=r.engine, seconds=round(r.seconds, 3)),
        highlight=False,
    )  # fmt: skip
    m = r.model
    if m is not None and m.name:
        params = ", ".join(f"{k}={v:.4g}" for k, v in m.params.items())
        console.print(
            _("{model} ({unit}): {params}; log-likelihood {loglik}", model=m.name, unit=m.time_unit, params=params,
              loglik=fmt(m.loglik)),
            highlight=False,
        )  # fmt: skip
    for scheme, counts in r.segments.items():
        console.print(table(scheme, [_("segment"), _("members")], counts.items()))
    for note in r.notes:
        err_console.print(_("note: {note}", note=note), highlight=False, markup=False)


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
    full: bool = typer.Option(
        False,
        "--full",
        help="Rebuild all members' facts from all orders and refit the models (default: only what changed).",
    ),
    pages: bool = PAGES_OPT,
    json_output: bool = JSON_OPT,
) -> None:
    """Build the member snapshot (recency, frequency, monetary, cycle, P(alive), CLV) and every scheme's segments."""
    wb = current()
    day = parse_date(as_of, "--as-of")
    progress = None if json_output else _progress
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
        full=full,
        prepare=pages_wanted(pages),
    )
    emit(result, json_output, _render_refresh)


def _progress(msg: str) -> None:
    err_console.print(f"… {msg}", highlight=False, markup=False)


SEGMENT_HEADS = (N_("segment"), N_("segment name"), N_("members"), N_("share"), N_("avg recency"), N_("monetary"))
#: what segments, members and exports can be broken down or filtered by, as the service names them
BY = {"store": N_("store"), "tier": N_("tier"), "channel": N_("channel"), "guide": N_("guide")}


def _render_segments(d: SegmentSummary) -> None:
    head = ([_(BY.get(d.by, d.by))] if d.by else []) + [_(h) for h in SEGMENT_HEADS]
    rows = [
        ([r.group] if d.by else []) + [r.segment, r.label, r.members, pct(r.share), r.avg_recency_days, r.monetary]
        for r in d.segments
    ]
    title = _("{scheme} at {as_of} ({members:,} members)", scheme=d.scheme, as_of=d.as_of.isoformat(),
              members=d.members)  # fmt: skip
    console.print(table(title, head, rows))


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
        _("{scheme}: {start} → {end}: stayed {stayed:,}, slid {slid:,}, woke up {woke:,}", scheme=d.scheme,
          start=d.date_from.isoformat(), end=d.date_to.isoformat(), stayed=d.stayed, slid=d.slid, woke=d.woke_up),
        highlight=False,
    )  # fmt: skip
    rows = [[m.from_label, m.to_label, m.members] for m in d.moves if m.from_segment != m.to_segment]
    console.print(table(None, [_("from"), _("to"), _("members")], rows))


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
        console.print(_("wrote {n:,} members to {file}", n=d.count, file=d.file), highlight=False)
        return
    keys = CONTACT_KEYS if d.scheme == "contacts" else MEMBER_KEYS
    rows = [[m[c] for c in keys] for m in d.rows]
    title = _("{scheme} at {as_of}", scheme=d.scheme, as_of=d.as_of.isoformat())
    console.print(table(title, [_(COLUMN_NAMES.get(k, k)) for k in keys], rows))


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
    options = dict(
        scheme=scheme,
        segments=segment or None,
        stores=store or None,
        as_of=parse_date(as_of, "--as-of"),
        limit=limit if limit is not None else (None if export else 50),
        show_phones=show_phones,
        export=export,
        contacts=contacts,
    )
    if json_output or export is None or not err_console.is_terminal:
        result = wb.lifecycle.members(**options, progress=None if json_output else _progress)  # type: ignore[arg-type]
    else:
        result = _members_with_bar(wb, options)
    emit(result, json_output, _render_members)


def _members_with_bar(wb: Winback, options: dict[str, object]) -> MemberList:
    """An export on a terminal: a progress bar of the rows written (an XLSX is written row by row)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(_("writing")), BarColumn(), MofNCompleteColumn(), TextColumn(_("rows")))
    columns += (TimeRemainingColumn(),)
    with Progress(*columns, transient=True, console=err_console) as bar:
        task = bar.add_task("", total=None)
        return wb.lifecycle.members(  # type: ignore[arg-type]
            **options, rows_done=lambda done, total: bar.update(task, completed=done, total=total)
        )


def _render_explain(d: Explanation) -> None:
    console.print(_("member {member} at {as_of}", member=d.member_id, as_of=d.as_of.isoformat()), highlight=False)
    rows = [[_(COLUMN_NAMES.get(k, k)), d.snapshot[k]] for k in SNAPSHOT_KEYS]
    console.print(table(None, [_("value"), ""], rows))
    rows = [[n, v.segment, v.label, v.rule] for n, v in d.schemes.items()]
    console.print(table(_("segments"), [_("scheme"), _("segment"), _("segment name"), _("rule matched")], rows))
    if d.cycle:
        c = d.cycle
        console.print(
            _("cycle = ({span} + {k} × {prior}) / ({intervals} + {k}) = {value} days (prior from {source})",
              span=c.span_days, k=c.k, prior=fmt(c.prior_days), intervals=c.n_intervals, value=fmt(c.value),
              source=c.prior_source),
            highlight=False,
        )  # fmt: skip
    for name, m in d.models.items():
        console.print(f"{name}: " + ", ".join(f"{k}={v:.4g}" for k, v in m["params"].items()), highlight=False)
    ww = d.worth_waking
    if ww:
        verdict = _("worth waking") if ww["worth_waking"] else _("not on the worth-waking list")
        console.print(
            _("{verdict}: value at stake {value} RMB/year", verdict=verdict, value=fmt(ww["value_at_stake"])),
            highlight=False,
        )
        console.print(ww["rule"], highlight=False, markup=False)


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
    emit(result, json_output, _render_explain)
