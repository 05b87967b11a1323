"""`winback dedupe`: find member records that are the same person; merge them; undo the last merge."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, say, table
from winback.errors import InputError

#: winback.identity.types.DEFAULT_THRESHOLD (not imported here, to keep start-up light; a test keeps them equal)
DEFAULT_THRESHOLD = 0.9

if TYPE_CHECKING:
    from winback.identity.types import DedupeReport, Undone


@app.command("dedupe")
@handle_errors()
def dedupe_cmd(
    threshold: float = typer.Option(
        DEFAULT_THRESHOLD, "--threshold", help="Match probability (0.5–1) at or above which records are one person."
    ),
    apply: bool = typer.Option(
        False, "--apply", help="Merge each cluster into its survivor (ERP, most orders, oldest)."
    ),
    undo_flag: bool = typer.Option(False, "--undo", help="Reverse the last --apply exactly."),
    sample: int = typer.Option(5, "--sample", help="How many clusters to show."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Identity resolution with splink: clusters of records across the ERP export and guides' WeChat lists."""
    if apply and undo_flag:
        raise InputError("--apply and --undo cannot be used together", hint="Run one, then the other if needed.")
    wb = current()
    identity, lang = wb.identity, wb.settings.lang
    if undo_flag:
        emit(identity.undo(), json_output, _render_undone)
    else:
        report = identity.dedupe(threshold=threshold, apply=apply, sample=sample)
        emit(report, json_output, lambda d: _render(d, lang))


def _render_undone(result: Undone) -> None:
    u = result.undone
    console.print(
        f"undid merge {u.merge_id} (run {u.run_id}): {u.members:,} member records and {u.orders:,} orders restored"
    )


def _render(d: DedupeReport, lang: str = "zh") -> None:
    console.print(
        f"run {d.run_id}: {d.members:,} records, {d.pairs_scored:,} candidate pairs scored, "
        f"{d.clusters:,} clusters at p ≥ {d.threshold} holding {d.duplicates:,} duplicates ({d.seconds:.1f} s)"
    )
    if d.cluster_sizes:
        console.print(table("cluster sizes", ["records", "clusters"], sorted(d.cluster_sizes.items())))
    for c in d.sample:
        rows = [
            (r.member_id + (" ★" if r.member_id == c.survivor else ""), r.source, r.name, r.phone, r.store_id)
            for r in c.records
        ]
        lo, hi = c.min_probability, c.max_probability
        title = f"p = {lo}" if lo == hi else f"p {lo}–{hi}"
        console.print(table(title, ["member (★ survivor)", "source", "name", "phone", "store"], rows))
    if d.applied and d.applied.merge_id is None:
        console.print(say(lang, "没有需要合并的记录，未记录合并。", "nothing left to merge; no merge recorded."))
    elif d.applied:
        a = d.applied
        console.print(
            f"applied as merge {a.merge_id}: {a.members:,} member records merged, {a.orders:,} orders moved "
            "to their survivor (undo with `winback dedupe --undo`)"
        )
    else:
        console.print("nothing merged; add --apply to merge these clusters.")
