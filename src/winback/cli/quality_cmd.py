"""`winback quality`: how many members are usable, and what is wrong with the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, pct, table
from winback.i18n import N_, _

if TYPE_CHECKING:
    from winback.quality.types import Counted, QualityReport


@app.command("quality")
@handle_errors()
def quality_cmd(
    by: str = typer.Option(None, "--by", help="Also split by store, source or tier."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Data quality: contactable members, bad or missing phones, incomplete profiles, duplicates, orphans."""
    emit(current().quality.report(by=by), json_output, _render)


def _cell(c: Counted | None) -> str:
    if not c or c.count is None:
        return "—"
    return f"{c.count:,} ({pct(c.share)})"


#: the quality measures and profile fields, as the quality room names them, on screen
LABELS = {
    "contactable": N_("contactable"),
    "valid_mobile": N_("valid mobile"),
    "landline": N_("landline"),
    "invalid_phone": N_("invalid phone"),
    "missing_phone": N_("missing phone"),
    "incomplete_profile": N_("incomplete profile"),
    "suspected_duplicate": N_("suspected duplicates"),
    "never_purchased": N_("never bought"),
    "name": N_("full name"),
    "gender": N_("gender"),
    "birthday": N_("birthday"),
    "phone": N_("phone"),
    "store": N_("store"),
    "register_date": N_("registration date"),
    "tier": N_("tier"),
    "source": N_("source"),
}
GROUP_KEYS = ("contactable", "invalid_phone", "missing_phone", "incomplete_profile", "suspected_duplicate",
              "never_purchased")  # fmt: skip
GROUP_HEADS = (N_("members"), N_("contactable"), N_("invalid phone"), N_("missing phone"), N_("incomplete"),
               N_("duplicates"), N_("never bought"))  # fmt: skip


def _label(key: str) -> str:
    return _(LABELS[key]) if key in LABELS else key


def _render(d: QualityReport) -> None:
    from winback.quality.metrics import MEMBER_MEASURES, PROFILE_FIELDS

    t = d.total
    console.print(_("{members:,} members in {db}", members=t.members, db=d.db), highlight=False)
    if d.contacts is not None and d.contacts.members:
        console.print(
            _("plus {n:,} guide-WeChat contacts: they match no ERP member and are not counted as members",
              n=d.contacts.members),
            highlight=False,
        )  # fmt: skip
    rows = [(_label(k), _cell(t.measures[k])) for k in MEMBER_MEASURES]
    rows.append((_("orders without a known member"), _cell(t.orders.without_member if t.orders else None)))
    console.print(table(_("quality (count, share)"), [_("measure"), _("total")], rows))
    fields = [(_label(f), _cell(t.incomplete_fields[f])) for f in PROFILE_FIELDS]
    console.print(table(_("missing profile fields"), [_("field"), _("members")], fields))
    if t.measures["suspected_duplicate"].count is None:
        console.print(_("suspected duplicates: not measured yet — run `winback dedupe`."), highlight=False)
    if d.groups:
        by = _label(d.by) if d.by else ""
        cols = [by, *(_(h) for h in GROUP_HEADS)]
        body = [
            [g.key if g.key is not None else _("(none)"), g.block.members,
             *(_cell(g.block.measures[k]) for k in GROUP_KEYS)]
            for g in d.groups
        ]  # fmt: skip
        console.print(table(_("by {column}", column=by), cols, body))
