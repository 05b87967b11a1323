"""The task_sheet channel: a dispatch writes the guides' tasks into an XLSX workbook (one worksheet per store and
guide, through tasks_xlsx's writer) that `winback tasks import` reads back; a crash between writing and recording
is resolved from the workbook on disk."""

from __future__ import annotations

import json

from tests.outreach.conftest import NOW, add_members

from winback.outreach.channels import load_channel, plugin_names
from winback.outreach.config import ChannelConfig
from winback.outreach.ledger import touch_key
from winback.outreach.store import queue_touches
from winback.outreach.tasks_xlsx import read_workbook

STORES = {"M00000": ("静安店", "小王"), "M00001": ("静安店", "小李"), "M00002": ("徐汇店", "小王")}


def queue_tasks(wb, members: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    rows = [
        {
            "idempotency_key": touch_key("C0001", m, "task_sheet"),
            "campaign_id": "C0001",
            "member_id": m,
            "channel": "task_sheet",
            "task_id": f"T-{m}",
            "payload": json.dumps(
                {
                    "text": f"{m} 您好,新品到店",
                    "code": f"CODE{m}",
                    "store": STORES[m][0],
                    "guide": STORES[m][1],
                    "member": f"会员{m}",
                    "phone": "139****0000",
                    "tier": "金卡",
                },
                ensure_ascii=False,
            ),
        }
        for m in members
    ]
    queue_touches(wb.db(), rows, NOW)
    return [r["idempotency_key"] for r in rows]


def test_task_sheet_is_a_registered_plugin() -> None:
    assert "task_sheet" in plugin_names()


def test_dispatch_writes_one_sheet_per_store_and_guide(app_at, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "sheets"
    wb = app_at(NOW.replace(hour=11), extra=f'[channels.task_sheet]\nexport_dir = "{out}"\n')
    keys = queue_tasks(wb, add_members(wb, 3))
    r = wb.outreach.dispatch(channel="task_sheet").channels[0]
    assert r.sent == 3
    [book] = list(out.glob("tasks-*.xlsx"))
    rows = list(read_workbook(book))
    assert sorted(s for s, _, _ in rows) == ["徐汇店-小王", "静安店-小李", "静安店-小王"]
    by_task = {c["task_id"]: c for _, _, c in rows}
    assert by_task["T-M00001"]["coupon"] == "CODEM00001" and by_task["T-M00001"]["script"] == "M00001 您好,新品到店"
    assert by_task["T-M00000"]["tier"] == "金卡" and by_task["T-M00000"]["outcome"] is None
    status = dict(wb.db().fetchall("SELECT idempotency_key, status FROM touches"))
    assert {status[k] for k in keys} == {"sent"}
    again = wb.outreach.dispatch(channel="task_sheet").channels[0]
    assert again.claimed == 0 and len(list(out.glob("tasks-*.xlsx"))) == 1  # nothing written twice


def test_resolve_after_a_crash_reads_the_workbook_on_disk(tmp_path) -> None:
    from winback.outreach.ledger import LedgerRow

    ch = load_channel(ChannelConfig("task_sheet", "task_sheet", {"export_dir": str(tmp_path)}))
    row = LedgerRow("k1", "task_sheet", "C1", "M1", "T-1", "您好", 1, batch_id="b1")
    assert [x.outcome for x in ch.resolve([row])] == ["not_sent"]  # the crash came before the sheet was written
    assert [x.outcome for x in ch.send([row])] == ["sent"]
    assert [x.outcome for x in ch.resolve([row])] == ["sent"]  # written, the answer not yet recorded
