"""`winback rejects`: the rows an import could not load, with their row numbers and reasons.

Phones inside the rejected rows (raw values, reasons, messages) are masked on screen, in --json and in --export
files; `--show-phones` shows them whole and writes who, when and which rows or file to the audit log."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, err_console, handle_errors, table
from winback.errors import InputError
from winback.i18n import N_, _

if TYPE_CHECKING:
    from winback.ingest.types import ConflictList, RejectList, RejectsExport

#: the column headers of the two listings (translated when shown)
REJECT_COLUMNS = (N_("import"), N_("row"), N_("reason"))
CONFLICT_COLUMNS = (N_("import"), N_("id"), N_("field"), N_("row"), N_("value"), N_("kept"))


def _actor() -> str:
    """Who asked, for the audit log: the operating-system user, as `winback users` records it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _render_export(r: RejectsExport) -> None:
    console.print(_("{n:,} rejects written to {file}", n=r.exported, file=r.file))


def _more(shown: int, total: int) -> None:
    if total > shown:
        console.print(_("{shown} of {total:,} shown; --export FILE writes them all", shown=shown, total=total))


def _render(r: RejectList) -> None:
    if not r.total:
        console.print(_("no rejected rows"))
        return
    rows = [(x["import_id"], x["row_number"], x["message"]) for x in r.rows]
    console.print(table(None, [_(c) for c in REJECT_COLUMNS], rows))
    _more(len(r.rows), r.total)


def _render_conflicts(r: ConflictList) -> None:
    if not r.total:
        console.print(_("no conflicting repeated ids"))
        return
    yes = _("yes")
    rows = [
        (x["import_id"], x["key"], x["field"], x["row_number"], x["value"], yes if x["kept"] else "") for x in r.rows
    ]
    console.print(table(None, [_(c) for c in CONFLICT_COLUMNS], rows))
    _more(len(r.rows), r.total)


def _conflicts(import_id: int | None, export: Path | None, limit: int, json_output: bool) -> None:
    ingest = current().ingest
    if export is not None:
        done = ingest.export_conflicts(export, import_id=import_id)
        emit(done, json_output, lambda r: console.print(_("{n:,} conflicts written to {file}", n=r.exported,
                                                           file=r.file)))  # fmt: skip
        return
    emit(ingest.conflicts(import_id=import_id, limit=limit), json_output, _render_conflicts)


@app.command("rejects")
@handle_errors()
def rejects_cmd(
    import_id: int = typer.Option(None, "--import", help="Only this import's rejects."),
    export: Path = typer.Option(None, "--export", help="Write them all to FILE (.csv, .parquet or .jsonl)."),
    limit: int = typer.Option(50, "--limit", help="How many to show."),
    conflicts: bool = typer.Option(False, "--conflicts", help="The values on which rows repeating an id disagreed."),
    show_phones: bool = typer.Option(
        False, "--show-phones", help="Full phone numbers in the rows (masked by default); recorded in the audit log."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show (or export) the rows that imports rejected, and why."""
    if conflicts:
        if show_phones:
            raise InputError(
                _("--show-phones applies to rejected rows, not to --conflicts"),
                hint=_("Conflicting values are always masked; run `winback rejects --show-phones` for the rows."),
            )
        _conflicts(import_id, export, limit, json_output)
        return
    ingest = current().ingest
    who = _actor() if show_phones else "cli"
    if export is not None:
        done = ingest.export_rejects(export, import_id=import_id, show_phones=show_phones, actor=who)
        emit(done, json_output, _render_export)
    else:
        emit(ingest.rejects(import_id=import_id, limit=limit, show_phones=show_phones, actor=who), json_output, _render)
    if show_phones:
        err_console.print(_("full phone numbers shown; recorded in the audit log as {who}", who=who), highlight=False)
