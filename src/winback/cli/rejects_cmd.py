"""`winback rejects`: the rows an import could not load, with their row numbers and reasons."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, table

if TYPE_CHECKING:
    from winback.ingest.types import ConflictList, RejectList, RejectsExport

#: (zh, en) of what `rejects --conflicts` prints
LABELS = {
    "none": ("没有不一致的重复编号", "no conflicting repeated ids"),
    "header": (("导入", "编号", "字段", "行", "值", "保留"), ("import", "id", "field", "row", "value", "kept")),
    "more": (
        "显示 {shown} / {total:,} 条;--export FILE 导出全部",
        "{shown} of {total:,} shown; --export FILE writes them all",
    ),
    "written": ("{n:,} 条已写入 {file}", "{n:,} conflicts written to {file}"),
}


def _say(key: str, lang: str) -> object:
    zh, en = LABELS[key]
    return en if lang == "en" else zh


def _render_export(r: RejectsExport) -> None:
    console.print(f"{r.exported:,} rejects written to {r.file}")


def _render(r: RejectList) -> None:
    if not r.total:
        console.print("no rejected rows")
        return
    console.print(
        table(None, ["import", "row", "reason"], [(x["import_id"], x["row_number"], x["message"]) for x in r.rows])
    )
    if r.total > len(r.rows):
        console.print(f"{len(r.rows)} of {r.total:,} shown; --export FILE writes them all")


def _render_conflicts(r: ConflictList, lang: str) -> None:
    if not r.total:
        console.print(_say("none", lang))
        return
    yes, no = ("是", "") if lang != "en" else ("yes", "")
    rows = [
        (x["import_id"], x["key"], x["field"], x["row_number"], x["value"], yes if x["kept"] else no) for x in r.rows
    ]
    console.print(table(None, list(_say("header", lang)), rows))  # type: ignore[call-overload]
    if r.total > len(r.rows):
        console.print(str(_say("more", lang)).format(shown=len(r.rows), total=r.total))


@app.command("rejects")
@handle_errors()
def rejects_cmd(
    import_id: int = typer.Option(None, "--import", help="Only this import's rejects."),
    export: Path = typer.Option(None, "--export", help="Write them all to FILE (.csv, .parquet or .jsonl)."),
    limit: int = typer.Option(50, "--limit", help="How many to show."),
    conflicts: bool = typer.Option(
        False, "--conflicts", help="重复编号的不一致取值 / the values on which rows repeating an id disagreed."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show (or export) the rows that imports rejected, and why."""
    wb = current()
    ingest = wb.ingest
    if conflicts:
        lang = wb.settings.lang
        if export is not None:
            done = ingest.export_conflicts(export, import_id=import_id)
            emit(
                done, json_output, lambda r: console.print(str(_say("written", lang)).format(n=r.exported, file=r.file))
            )
            return
        emit(ingest.conflicts(import_id=import_id, limit=limit), json_output, lambda r: _render_conflicts(r, lang))
        return
    if export is not None:
        emit(ingest.export_rejects(export, import_id=import_id), json_output, _render_export)
        return
    emit(ingest.rejects(import_id=import_id, limit=limit), json_output, _render)
