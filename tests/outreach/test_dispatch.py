"""`dispatch` against real servers on loopback: webhook (signed, de-duplicated by key), Aliyun-shaped SMS gateway
(batches ≤ 100, out-id, receipts, uplink opt-outs), SMTP (aiosmtpd). Pressure at send time: opt-outs, quiet
hours, caps."""

from __future__ import annotations

import datetime as dt
import json

from tests.outreach.conftest import HOOK_SECRET, NOW, SMS_SECRET, add_members, queue

from winback.outreach.store import opt_out


def states(wb, channel: str | None = None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rows = wb.db().fetchall(
        "SELECT status, count(*) FROM touches WHERE $1::VARCHAR IS NULL OR channel = $1 GROUP BY 1", [channel]
    )
    return dict(rows)


def test_dispatch_sends_webhook_sms_and_email_once(app_at, servers) -> None:  # type: ignore[no-untyped-def]
    hook, sms, smtp = servers
    wb = app_at()
    members = add_members(wb, 250)
    hook_keys = queue(wb, members[:40], "webhook")
    queue(wb, members[40:230], "sms")
    mail_keys = queue(wb, members[230:], "email")
    r = wb.outreach.dispatch()
    by = {c.channel: c for c in r.channels}
    assert (by["webhook"].sent, by["sms"].sent, by["email"].sent) == (40, 190, 20)
    assert set(hook.accepted) == set(hook_keys) and max(hook.accepted.values()) == 1 and hook.bad_signatures == 0
    body = hook.bodies[hook_keys[0]]
    assert {"idempotency_key", "channel", "campaign_id", "member_id", "to", "text"} <= set(body)
    assert body["to"] == "+8613900000000" and body["text"].startswith("M00000")
    assert (
        sorted(sms.batch_sizes) == [90, 100] and sum(sms.received.values()) == 190 and max(sms.received.values()) == 1
    )
    assert sms.by_phone["13900000040"][0]["Params"] == {"code": "CODEM00040", "name": "M00040"}
    assert sorted(smtp.ids.values()) == [1] * 20
    assert len(smtp.messages) == 20 and smtp.messages[0]["X-Winback-Key"] in mail_keys
    # receipts were pulled: every SMS is delivered; webhook and e-mail stay sent
    assert states(wb, "sms") == {"delivered": 190} and states(wb, "webhook") == {"sent": 40}
    # a second dispatch sends nothing
    again = wb.outreach.dispatch()
    assert sum(c.claimed for c in again.channels) == 0
    assert sum(sms.received.values()) == 190 and len(hook.posts) == 40 and len(smtp.messages) == 20
    # no secret in the ledger or the result
    dumped = json.dumps(r.to_dict(), ensure_ascii=False) + repr(wb.db().fetchall("SELECT * FROM touches"))
    assert HOOK_SECRET not in dumped and SMS_SECRET not in dumped


def test_opted_out_and_quiet_hours_receive_nothing(app_at, servers) -> None:  # type: ignore[no-untyped-def]
    _, sms, _ = servers
    wb = app_at(NOW.replace(hour=22))  # inside 21:00-09:00
    members = add_members(wb, 30)
    opt_out(wb.db(), members[0], "*", source="manual", reason="电话要求", now=NOW)
    opt_out(wb.db(), members[1], "sms", source="sms_uplink", reason="TD", now=NOW)
    queue(wb, members[:20], "sms")
    queue(wb, members[20:], "webhook")
    opt_out(wb.db(), members[20], "webhook", source="manual", reason=None, now=NOW)
    r = {c.channel: c for c in wb.outreach.dispatch().channels}
    assert r["sms"].claimed == 0 and r["sms"].deferred == 18  # quiet hours: held, not dropped
    assert r["sms"].skipped == {"opted_out": 1, "opted_out_channel": 1}
    assert r["webhook"].sent == 9 and r["webhook"].skipped == {"opted_out_channel": 1}  # webhook is not quiet
    assert sum(sms.received.values()) == 0
    held = wb.db().fetchall("SELECT DISTINCT next_attempt_at FROM touches WHERE channel = 'sms' AND status = 'queued'")
    assert held == [(dt.datetime(2026, 11, 24, 9, 0),)]
    # 08:59 next morning: still quiet; 09:00: they go
    wb = app_at(dt.datetime(2026, 11, 24, 8, 59))
    assert {c.channel: c.claimed for c in wb.outreach.dispatch().channels}["sms"] == 0
    wb = app_at(dt.datetime(2026, 11, 24, 9, 0))
    assert {c.channel: c.sent for c in wb.outreach.dispatch().channels}["sms"] == 18
    assert "13900000000" not in sms.received and "13900000001" not in sms.received


def test_webhook_retries_5xx_and_429_with_backoff_and_fails_on_4xx(app_at, servers) -> None:  # type: ignore[no-untyped-def]
    hook, _, _ = servers
    wb = app_at()
    members = add_members(wb, 3)
    k1, k2, k3 = queue(wb, members, "webhook")
    hook.fail[k1] = [503, 429]
    hook.fail[k2] = [400]
    r = wb.outreach.dispatch(channel="webhook").channels[0]
    assert (r.sent, r.retry, r.failed) == (1, 1, 1)
    row = wb.db().fetchone(
        "SELECT status, attempts, next_attempt_at, reason FROM touches WHERE idempotency_key=?", [k1]
    )
    assert row[0] == "queued" and row[1] == 1 and NOW < row[2] <= NOW + dt.timedelta(seconds=1) and row[3] == "http_503"
    failed = wb.db().fetchone("SELECT status, reason, response FROM touches WHERE idempotency_key = ?", [k2])
    assert failed[:2] == ("failed", "rejected") and failed[2].startswith("400")
    wb = app_at(NOW + dt.timedelta(seconds=1))
    assert wb.outreach.dispatch(channel="webhook").channels[0].retry == 1  # 429, again later (≤ 2 s)
    wb = app_at(NOW + dt.timedelta(seconds=3))
    assert wb.outreach.dispatch(channel="webhook").channels[0].sent == 1
    assert hook.accepted[k1] == 1 and [a for k, a in hook.posts if k == k1] == [1, 2, 3]
    assert k3 in hook.accepted


def test_sms_uplink_td_opts_out_and_receipts_mark_undelivered(app_at, servers) -> None:  # type: ignore[no-untyped-def]
    _, sms, _ = servers
    wb = app_at()
    members = add_members(wb, 5)
    sms.undeliverable.add("13900000004")
    sms.reply("13900000002", " TD ")
    sms.reply("13900000003", "谢谢")
    queue(wb, members, "sms")
    r = wb.outreach.dispatch(channel="sms").channels[0]
    assert r.sent == 5 and r.receipts == 5 and r.opt_outs == 1
    assert states(wb, "sms") == {"delivered": 4, "failed": 1}
    assert wb.db().fetchall("SELECT member_id, channel, source FROM opt_outs") == [("M00002", "sms", "sms_uplink")]
    queue(wb, members, "sms", campaign="C0002")
    r2 = wb.outreach.dispatch(channel="sms").channels[0]
    assert r2.sent == 4 and r2.skipped == {"opted_out_channel": 1}


def test_receipts_come_at_least_once_until_deleted_after_recording(app_at, servers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The queue-shaped receipts: received in batches of ≤ 16 with handles, deleted only after the dispatcher
    recorded them; when the delete is lost (a crash after recording) they come again, and recording them again
    changes nothing."""
    from winback.outreach.channels.sms import SmsChannel

    _, sms, _ = servers
    wb = app_at()
    members = add_members(wb, 40)
    sms.reply("13900000001", "退订")
    queue(wb, members, "sms")
    r = wb.outreach.dispatch(channel="sms").channels[0]
    assert (r.sent, r.receipts, r.opt_outs) == (40, 40, 1)
    assert sms.pending("report") == 0 and sms.pending("up") == 0 and sms.redeliveries == 0  # recorded, deleted
    monkeypatch.setattr(SmsChannel, "ack", lambda self: None)  # the deletes never reach the provider
    queue(wb, members[2:], "sms", campaign="C0002")
    sms.reply("13900000003", "TD")
    r = wb.outreach.dispatch(channel="sms").channels[0]
    assert (r.sent, r.receipts, r.opt_outs) == (38, 38, 1)
    assert sms.pending("report") == 38 and sms.pending("up") == 1  # still in the queue
    monkeypatch.undo()
    sms.expire_visibility()  # their visibility timeout passes
    again = wb.outreach.dispatch(channel="sms").channels[0]
    assert (again.claimed, again.receipts, again.opt_outs) == (0, 0, 0)  # delivered again, nothing new recorded
    assert sms.redeliveries == 39 and sms.pending("report") == 0 and sms.pending("up") == 0
    assert states(wb, "sms") == {"delivered": 78}
    assert sorted(m for (m,) in wb.db().fetchall("SELECT member_id FROM opt_outs")) == ["M00001", "M00003"]


def test_caps_skip_with_reason_and_throttling_retries(app_at, servers) -> None:  # type: ignore[no-untyped-def]
    _, sms, _ = servers
    wb = app_at()
    members = add_members(wb, 4)
    for c in ("C1", "C2", "C3"):
        queue(wb, members, "sms", campaign=c)
    sms.throttle_batches = 1
    r = wb.outreach.dispatch(channel="sms").channels[0]
    # caps day = 2: two of each member's three go; the first batch was throttled and is queued again
    assert r.skipped == {"cap_day": 4} and r.retry == 8 and r.sent == 0
    wb = app_at(NOW + dt.timedelta(minutes=5))
    r = wb.outreach.dispatch(channel="sms").channels[0]
    assert r.sent == 8 and max(sms.received.values()) == 2


def test_wecom_waits_for_the_guides_confirmation(app_at, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.outreach.gateways import WecomServer

    with WecomServer("corp1", "wecom-secret") as wecom:
        extra = f'[channels.wecom]\nbase_url = "{wecom.url}"\ncorpid = "corp1"\nsecret = "wecom-secret"\n'
        wb = app_at(extra=extra)
        members = add_members(wb, 4)
        db = wb.db()
        db.execute("INSERT INTO staff (guide_id, name, wechat_id) VALUES ('G1', '导购一', 'guide.one')")
        db.execute("UPDATE members SET guide_id = 'G1', wechat_id = 'wm' || member_id, consent_wechat = TRUE")
        wecom.friends["guide.one"] = {"wmM00000", "wmM00001", "wmM00002"}  # M00003 is not her contact
        queue(wb, members, "wecom")
        r = wb.outreach.dispatch(channel="wecom").channels[0]
        assert (r.pending, r.failed) == (3, 1) and sum(wecom.delivered.values()) == 0
        assert states(wb, "wecom") == {"sending": 3, "failed": 1}
        # not confirmed yet: still pending at the next dispatch, nothing sent again
        r = wb.outreach.dispatch(channel="wecom").channels[0]
        assert (r.resolved, r.pending, r.claimed) == (3, 3, 0) and len(wecom.tasks) == 4  # one per customer
        waiting = [m for m, t in wecom.tasks.items() if t["status"]]
        for msgid in waiting[:2]:
            wecom.confirm(msgid)
        r = wb.outreach.dispatch(channel="wecom").channels[0]
        assert (r.delivered, r.pending) == (2, 1)
        assert states(wb, "wecom") == {"delivered": 2, "sending": 1, "failed": 1}
        # a crash between WeCom's answer and our record: the msgid is found again by the text
        db = wb.db()
        db.execute("UPDATE touches SET provider_id = NULL WHERE status = 'sending'")
        wecom.confirm(waiting[2])
        r = wb.outreach.dispatch(channel="wecom").channels[0]
        assert r.delivered == 1 and len(wecom.tasks) == 4 and max(wecom.delivered.values()) == 1


def test_sms_left_sending_is_resolved_from_the_send_details_before_any_retry(app_at, servers) -> None:  # type: ignore[no-untyped-def]
    """A crash after the claim: one batch reached the gateway (its answer lost), one never left."""
    _, sms, _ = servers
    wb = app_at()
    members = add_members(wb, 4)
    keys = queue(wb, members, "sms")
    db = wb.db()
    db.execute(
        "UPDATE touches SET status = 'sending', attempts = 1, "
        " recipient = (SELECT phone FROM members m WHERE m.member_id = touches.member_id), "
        " batch_id = CASE WHEN member_id <= 'M00001' THEN 'B-ARRIVED' ELSE 'B-LOST' END"
    )
    for phone in ("13900000000", "13900000001"):  # the gateway accepted the first batch
        sms.by_phone[phone].append({"PhoneNum": phone, "SendStatus": 3, "ErrCode": "DELIVERED", "OutId": "B-ARRIVED"})
        sms.received[phone] += 1
    r = wb.outreach.dispatch(channel="sms").channels[0]
    assert r.resolved == 4 and r.delivered == 2 and r.claimed == 2 and r.sent == 2
    assert max(sms.received.values()) == 1 and len(sms.received) == 4
    got = dict(db.fetchall("SELECT idempotency_key, status FROM touches"))
    assert [got[k] for k in keys] == ["delivered", "delivered", "delivered", "delivered"]  # receipts pulled


def test_ai_call_lists_out_and_results_back(app_at, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import csv

    out, back = tmp_path / "calls", tmp_path / "results"
    wb = app_at(NOW.replace(hour=11), extra=f'[channels.ai_call]\nexport_dir = "{out}"\nresults_dir = "{back}"\n')
    keys = queue(wb, add_members(wb, 3), "ai_call")
    r = wb.outreach.dispatch(channel="ai_call").channels[0]
    assert r.pending == 3 and states(wb, "ai_call") == {"sending": 3}
    [listed] = list(out.glob("calls-*.csv"))
    rows = list(csv.DictReader(listed.open(encoding="utf-8-sig")))
    by_key = {x["key"]: x for x in rows}
    assert sorted(by_key) == sorted(keys) and by_key[keys[0]]["number"] == "+8613900000000"
    assert by_key[keys[0]]["code"] == "CODEM00000" and by_key[keys[0]]["callback_window"] == "10:00-20:00"
    back.mkdir()
    (back / "vendor.csv").write_text(
        f"key,connected,intent,duration\n{keys[0]},是,high,95\n{keys[1]},0,,0\n", encoding="utf-8"
    )
    r = wb.outreach.dispatch(channel="ai_call").channels[0]
    assert (r.delivered, r.failed, r.pending, r.claimed) == (1, 1, 1, 0)
    got = dict(wb.db().fetchall("SELECT idempotency_key, status || ':' || coalesce(reason, '') FROM touches"))
    assert [got[k] for k in keys] == ["delivered:", "failed:unreachable", "sending:"]
