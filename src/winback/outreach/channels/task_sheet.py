"""The task-sheet channel: a guide's tasks as XLSX sheets, one worksheet per store and guide, written by the same
writer as `winback tasks export` (outreach/tasks_xlsx.py), so a guide fills in the outcome column and the sheet
comes back with `winback tasks import FILE`.

`send` writes one workbook per dispatch batch, `tasks-<batch>.xlsx` in `export_dir`, atomically (the writer
renames a finished temporary file into place: a crash leaves no half sheet, and the same batch written again is
the same file). The member card comes from the touch as the ledger holds it: `to` is the task id (the address of
a task channel), `text` the rendered script, `code` the coupon; the other card fields (store, guide, member,
phone (masked), tier, last_purchase, last_items, favourite, cycle_days, priority, due) are read from the touch's
payload where the campaign queued them. A written sheet is `sent`: what the guide did arrives through the task
import, which closes the task and its touch.

`resolve` (a crash between writing and recording): the batch's workbook exists → sent; it does not → not_sent
(written again under the same batch id).

[channels.task_sheet]: export_dir (required); lang ("zh"), batch_size (5000).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.i18n import N_, t
from winback.outreach.channels.contract import NoFeedback
from winback.outreach.ledger import LedgerRow, SendResult
from winback.outreach.tasks_xlsx import COLUMNS, FILL_IN, write_workbook

if TYPE_CHECKING:
    from winback.outreach.config import ChannelConfig

#: a card's store / guide when the touch's payload names none
UNKNOWN = N_("unassigned")
_CARD = tuple(k for k, *_ in COLUMNS if k not in FILL_IN)


def card(row: LedgerRow) -> dict[str, Any]:
    """The member card of one touch: payload fields by the sheet's column keys, the ledger's own fields first."""
    p = row.payload
    out = {k: p.get(k) for k in _CARD if p.get(k) not in (None, "")}
    out.update(task_id=row.to or row.key, script=row.text or p.get("script"))
    out.setdefault("campaign", row.campaign_id)
    if row.code:
        out["coupon"] = row.code
    return out


class TaskSheetChannel(NoFeedback):
    resolve_sends = False
    has_receipts = False
    has_inbound = False
    connections = 1
    rate_per_second = None

    def __init__(self, config: ChannelConfig) -> None:
        self.name = config.name
        self.export_dir = Path(str(config.require("export_dir")))
        self.lang = "en" if str(config.get("lang", "zh")) == "en" else "zh"
        self.batch_size = int(config.get("batch_size", 5000))

    def file(self, batch_id: str | None) -> Path:
        return self.export_dir / f"tasks-{batch_id or 'none'}.xlsx"

    def groups(self, rows: Sequence[LedgerRow]) -> list[tuple[str, str, list[dict[str, Any]]]]:
        """(store, guide, cards) in store, guide order: one worksheet each."""
        by: dict[tuple[str, str], list[dict[str, Any]]] = {}
        none = t(UNKNOWN, self.lang)
        for r in rows:
            c = card(r)
            by.setdefault((str(c.get("store") or none), str(c.get("guide") or r.sender or none)), []).append(c)
        return [(s, g, cards) for (s, g), cards in sorted(by.items())]

    def send(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        target = self.file(rows[0].batch_id)
        write_workbook(target, self.groups(rows), self.lang, dt.datetime.now())
        return [SendResult(r.key, "sent", provider_id=target.name, response="in the task sheet") for r in rows]

    def resolve(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        out = []
        for r in rows:
            f = self.file(r.batch_id)
            if f.exists():
                out.append(SendResult(r.key, "sent", provider_id=f.name, response="in the task sheet"))
            else:
                out.append(SendResult(r.key, "not_sent", response="no task sheet for the batch"))
        return out
