"""`winback dedupe`: find member records that are the same person; merge them; undo the last merge."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, table
from winback.errors import InputError
from winback.i18n import _

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
        raise InputError(_("--apply and --undo cannot be used together"), hint=_("Run one, then the other if needed."))
    identity = current().identity
    if undo_flag:
        emit(identity.undo(), json_output, _render_undone)
    else:
        report = identity.dedupe(threshold=threshold, apply=apply, sample=sample)
        emit(report, json_output, _render)


def _render_undone(result: Undone) -> None:
    u = result.undone
    console.print(
        _(
            "undid merge {merge} (run {run}): {members:,} member records and {orders:,} orders restored",
            merge=u.merge_id,
            run=u.run_id,
            members=u.members,
            orders=u.orders,
        ),
        highlight=False,
    )


def _render(d: DedupeReport) -> None:
    console.print(
        _(
            "run {run}: {records:,} records, {pairs:,} candidate pairs scored, {clusters:,} clusters at p ≥ "
            "{threshold} holding {duplicates:,} duplicates ({seconds} s)",
            run=d.run_id,
            records=d.members,
            pairs=d.pairs_scored,
            clusters=d.clusters,
            threshold=d.threshold,
            duplicates=d.duplicates,
            seconds=f"{d.seconds:.1f}",
        ),
        highlight=False,
    )
    if d.cluster_sizes:
        console.print(table(_("cluster sizes"), [_("records"), _("clusters")], sorted(d.cluster_sizes.items())))
    for c in d.sample:
        rows = [
            (r.member_id + (" ★" if r.member_id == c.survivor else ""), r.source, r.name, r.phone, r.store_id)
            for r in c.records
        ]
        lo, hi = c.min_probability, c.max_probability
        title = f"p = {lo}" if lo == hi else f"p {lo}–{hi}"
        heads = [_("member (★ survivor)"), _("source"), _("full name"), _("phone"), _("store")]
        console.print(table(title, heads, rows))
    if d.applied and d.applied.merge_id is None:
        console.print(_("nothing left to merge; no merge recorded."))
    elif d.applied:
        a = d.applied
        console.print(
            _(
                "applied as merge {merge}: {members:,} member records merged, {orders:,} orders moved to their "
                "survivor (undo with `winback dedupe --undo`)",
                merge=a.merge_id,
                members=a.members,
                orders=a.orders,
            ),
            highlight=False,
        )
    else:
        console.print(_("nothing merged; add --apply to merge these clusters."))
