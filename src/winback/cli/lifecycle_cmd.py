"""`winback refresh | segments | transitions | members | explain`: build and read lifecycle snapshots."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import typer

from winback.cli.app import app, settings
from winback.cli.output import console, emit, err_console, fmt, handle_errors, pct, table
from winback.cli.when import parse_date
from winback.engine import DuckDBEngine
from winback.errors import InputError
from winback.lifecycle.export import export_table
from winback.lifecycle.refresh import refresh, refresh_history
from winback.lifecycle.views import explain_member, list_members, segment_summary, transitions
from winback.warehouse import connect

JSON_OPT = typer.Option(False, "--json", help="Print one JSON object.")


def _required_date(value: str, option: str) -> dt.date:
    day = parse_date(value, option)
    if day is None:
        raise InputError(f"{option} is required", hint="Write it as YYYY-MM-DD.")
    return day


def _render_refresh(d: dict[str, Any]) -> None:
    console.print(f"snapshot at [bold]{d['as_of']}[/]: {d['members']:,} members ({d['engine']}, {d['seconds']} s)")
    m = d["model"]
    if m.get("name"):
        params = ", ".join(f"{k}={v:.4g}" for k, v in m["params"].items())
        console.print(f"{m['name']} ({m['time_unit']}): {params}; log-likelihood {fmt(m['loglik'])}")
    for scheme, counts in d["segments"].items():
        console.print(table(scheme, ["segment", "members"], counts.items()))
    for note in d.get("notes", []):
        err_console.print(f"note: {note}", highlight=False)


@app.command("refresh")
@handle_errors()
def refresh_cmd(
    as_of: str = typer.Option(
        None, "--as-of", help="Snapshot date; orders before it count (default: the day after the last order)."
    ),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
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
    json_output: bool = JSON_OPT,
) -> None:
    """Build the member snapshot (recency, frequency, monetary, cycle, P(alive), CLV) and every scheme's segments."""
    s = settings(json_output)
    if engine not in {"duckdb", "spark"}:
        raise InputError(f"unknown engine {engine!r}", hint="Use --engine duckdb or --engine spark.")
    if engine != "spark" and (orders_parquet or members_parquet):
        raise InputError(
            "--orders-parquet and --members-parquet are read by the Spark engine only",
            hint="Add --engine spark, or import the files into the warehouse with `winback import`.",
        )
    day = parse_date(as_of, "--as-of")
    con = connect(s.db_path)
    eng: Any = None
    try:
        if engine == "spark":
            from winback.engine.spark import spark_engine_from_settings

            eng = spark_engine_from_settings(s, con, orders_parquet=orders_parquet, members_parquet=members_parquet)
        else:
            eng = DuckDBEngine(con)
        progress = None if json_output else (lambda msg: err_console.print(f"… {msg}", highlight=False))
        kwargs: dict[str, Any] = {"warehouse": con, "rules_files": rules or (), "progress": progress}
        with warnings.catch_warnings():  # DuckDB's note about copying DB-API results to Arrow is not for users
            warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
            if history:
                results = refresh_history(eng, day, every=history, **kwargs)
                data = {**results[-1].to_dict(), "history": [r.as_of.isoformat() for r in results]}
            else:
                data = refresh(eng, day, **kwargs).to_dict()
    finally:
        if eng is not None and hasattr(eng, "close"):
            eng.close()
        con.close()
    emit(data, json_output, _render_refresh)


@app.command("segments")
@handle_errors()
def segments_cmd(
    scheme: str = typer.Option("seed_cn", "--scheme", help="seed_cn, months, cycle, lifecycle, rfm, value or yours."),
    as_of: str = typer.Option(None, "--as-of", help="Snapshot date (default: the latest)."),
    by: str = typer.Option(None, "--by", help="Break down by store, tier, channel or guide."),
    json_output: bool = JSON_OPT,
) -> None:
    """Members per segment of a scheme."""
    s = settings(json_output)
    con = connect(s.db_path, read_only=True)
    try:
        data = segment_summary(con, scheme=scheme, as_of=parse_date(as_of, "--as-of"), by=by, lang=s.lang)
    finally:
        con.close()

    def render(d: dict[str, Any]) -> None:
        head = ([d["by"]] if d["by"] else []) + ["segment", "label", "members", "share", "avg recency", "monetary"]
        rows = [
            ([r[d["by"]]] if d["by"] else [])
            + [r["segment"], r["label"], r["members"], pct(r["share"]), r["avg_recency_days"], r["monetary"]]
            for r in d["segments"]
        ]
        console.print(table(f"{d['scheme']} at {d['as_of']} ({d['members']:,} members)", head, rows))

    emit(data, json_output, render)


@app.command("transitions")
@handle_errors()
def transitions_cmd(
    date_from: str = typer.Option(..., "--from", help="Earlier snapshot date."),
    date_to: str = typer.Option(..., "--to", help="Later snapshot date."),
    scheme: str = typer.Option("seed_cn", "--scheme", help="Scheme to compare."),
    json_output: bool = JSON_OPT,
) -> None:
    """How members moved between segments from one snapshot to another (who slid, who woke up)."""
    s = settings(json_output)
    d1, d2 = _required_date(date_from, "--from"), _required_date(date_to, "--to")
    con = connect(s.db_path, read_only=True)
    try:
        data = transitions(con, date_from=d1, date_to=d2, scheme=scheme, lang=s.lang)
    finally:
        con.close()

    def render(d: dict[str, Any]) -> None:
        console.print(
            f"{d['scheme']}: {d['from']} → {d['to']}: stayed {d['stayed']:,}, slid {d['slid']:,}, "
            f"woke up {d['woke_up']:,}"
        )
        rows = [[m["from_label"], m["to_label"], m["members"]] for m in d["moves"] if m["from"] != m["to"]]
        console.print(table(None, ["from", "to", "members"], rows))

    emit(data, json_output, render)


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
    json_output: bool = JSON_OPT,
) -> None:
    """List members of segments (phones masked unless --show-phones), on screen or exported to a file."""
    s = settings(json_output)
    con = connect(s.db_path, read_only=True)
    try:
        lim = limit if limit is not None else (None if export else 50)
        day, rows = list_members(
            con,
            scheme=scheme,
            segments=segment or None,
            stores=store or None,
            as_of=parse_date(as_of, "--as-of"),
            limit=lim,
            show_phones=show_phones,
        )
    finally:
        con.close()
    data: dict[str, Any] = {
        "as_of": day.isoformat(),
        "scheme": scheme,
        "count": rows.num_rows,
        "phones": "full" if show_phones else "masked",
    }
    if export:
        data["file"] = str(export)
        data["format"] = export_table(rows, export)
    else:
        data["members"] = rows.to_pylist()

    def render(d: dict[str, Any]) -> None:
        if "file" in d:
            console.print(f"wrote {d['count']:,} members to {d['file']}")
            return
        cols = ["member_id", "name", "phone", "store_id", "segment", "recency_days", "orders", "monetary", "p_alive"]
        console.print(table(f"{d['scheme']} at {d['as_of']}", cols, [[m[c] for c in cols] for m in d["members"]]))

    emit(data, json_output, render)


@app.command("explain")
@handle_errors()
def explain_cmd(
    member_id: str = typer.Argument(..., help="Member id."),
    as_of: str = typer.Option(None, "--as-of", help="Snapshot date (default: the latest)."),
    json_output: bool = JSON_OPT,
) -> None:
    """Every number behind a member's segments and scores: rules matched, cycle, breakpoints, model parameters."""
    s = settings(json_output)
    con = connect(s.db_path, read_only=True)
    try:
        data = explain_member(con, member_id, as_of=parse_date(as_of, "--as-of"), lang=s.lang)
    finally:
        con.close()

    def render(d: dict[str, Any]) -> None:
        console.print(f"member [bold]{d['member_id']}[/] at {d['as_of']}")
        snap = d["snapshot"]
        keys = [
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
            "clv",
            "r_score",
            "f_score",
            "m_score",
        ]
        console.print(table(None, ["value", ""], [[k, snap[k]] for k in keys]))
        rows = [[n, v["segment"], v["label"], v["rule"]] for n, v in d["schemes"].items()]
        console.print(table("segments", ["scheme", "segment", "label", "rule matched"], rows))
        if d["cycle"]:
            c = d["cycle"]
            console.print(
                f"cycle = ({c['span_days']} + {c['k']} × {fmt(c['prior_days'])}) / ({c['n_intervals']} + "
                f"{c['k']}) = {fmt(c['value'])} days (prior from {c['prior_source']})"
            )
        for name, m in d["models"].items():
            console.print(f"{name}: " + ", ".join(f"{k}={v:.4g}" for k, v in m["params"].items()))

    emit(data, json_output, render)
