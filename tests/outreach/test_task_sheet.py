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


def test_a_channel_written_sheet_filled_in_and_imported_back(demo_brand, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Round trip on the demo brand: a guide-task campaign dispatched through the task_sheet plugin, the guides'
    outcomes written into that workbook, `winback tasks import` records them on the campaign's tasks."""
    import shutil

    import openpyxl
    from typer.testing import CliRunner

    from winback.cli.main import app

    runner = CliRunner()
    db = tmp_path / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    out = tmp_path / "sheets"
    channels = tmp_path / "channels.toml"
    channels.write_text(f'[channels.guide_task]\nplugin = "task_sheet"\nexport_dir = "{out}"\n', encoding="utf-8")
    env = {"WINBACK_DB": str(db), "WINBACK_CHANNELS": str(channels), "WINBACK_NOW": "2026-11-21 10:00"}

    def cli(*args: str) -> dict:  # type: ignore[type-arg]
        res = runner.invoke(app, [*args, "--json"], env=env)
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)  # type: ignore[no-any-return]

    cid = cli("campaign", "create", "--scenario", "new_store_opening")["campaign"]["campaign_id"]
    launched = cli("campaign", "launch", cid)
    sent = {c["channel"]: c for c in cli("dispatch")["channels"]}["guide_task"]
    assert 0 < sent["sent"] <= launched["tasks"]
    [book] = list(out.glob("tasks-*.xlsx"))
    wbk = openpyxl.load_workbook(book)
    filled = {}
    for ws in wbk.worksheets[1:3]:  # two guides fill in their first three rows
        head = [c.value for c in ws[1]]
        tid, res = head.index("任务号") + 1, head.index("结果") + 1
        for r, outcome in zip(range(2, 5), ("已联系", "已邀约", "已到店"), strict=True):
            filled[ws.cell(r, tid).value] = outcome
            ws.cell(r, res).value = outcome
    wbk.save(book)
    got = cli("tasks", "import", str(book))
    assert (got["recorded"], got["rejected"]) == (len(filled), [])
    listed = {t["task_id"]: t for t in cli("tasks", "list", "--campaign", cid, "--limit", "0")["tasks"]}
    words = {"已联系": "contacted", "已邀约": "invited", "已到店": "visited"}
    assert {k: listed[k]["outcome"] for k in filled} == {k: words[v] for k, v in filled.items()}
