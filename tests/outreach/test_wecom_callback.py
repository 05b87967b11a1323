"""WeCom contact deletion as an opt-out, through the console's callback URL on a real uvicorn: the URL check, an
encrypted `change_external_contact` / `del_follow_user` event signed with the callback token, a retry of the same
event, a forged one; then the member's WeCom touch is skipped (`opted_out_channel`) while SMS still may go.
The AES-256-CBC is checked against the FIPS-197 and SP 800-38A vectors."""

from __future__ import annotations

import base64
import datetime as dt
import threading
from pathlib import Path

import httpx
import pytest
from tests.outreach.conftest import NOW, add_members, queue
from tests.outreach.gateways import WecomServer

from winback.errors import InputError
from winback.outreach.channels import aes_cbc
from winback.outreach.channels import wecom_callback as cb
from winback.outreach.config import ChannelConfig

CORP = "ww1234567890abcdef"
TOKEN = "cb-token-不外传"
AES_KEY = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")  # 43 characters, like WeCom's


def test_aes_256_known_answers() -> None:
    rk = aes_cbc.expand_key(bytes(range(32)))  # FIPS-197 appendix C.3
    c = aes_cbc.encrypt_block(rk, bytes.fromhex("00112233445566778899aabbccddeeff"))
    assert c.hex() == "8ea2b7ca516745bfeafc49904b496089"
    assert aes_cbc.decrypt_block(rk, c).hex() == "00112233445566778899aabbccddeeff"
    key = bytes.fromhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")  # SP 800-38A F.2.5
    plain = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
    ct = aes_cbc.cbc_encrypt(key, bytes(range(16)), plain)
    assert ct.hex() == "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
    assert aes_cbc.cbc_decrypt(key, bytes(range(16)), ct) == plain


def keys() -> cb.CallbackKeys:
    cfg = ChannelConfig("wecom", "wecom", {"corpid": CORP, "callback_token": TOKEN, "callback_aes_key": AES_KEY})
    return cb.callback_keys(cfg)


def test_envelope_round_trip_and_refusals() -> None:
    k = keys()
    assert "不外传" not in repr(k) and len(k.aes_key) == 32
    sealed = cb.encrypt(k, "<xml><Event>x</Event></xml>")
    assert cb.decrypt(k, sealed) == "<xml><Event>x</Event></xml>"
    other = cb.CallbackKeys(TOKEN, k.aes_key, "another-corp")
    with pytest.raises(InputError):
        cb.decrypt(other, sealed)  # addressed to another corp
    with pytest.raises(InputError):
        cb.verify(k, "0" * 40, "1", "n", sealed)
    with pytest.raises(InputError):
        cb.xml_fields(b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><E>&a;</E></xml>')
    bad = ChannelConfig("wecom", "wecom", {"corpid": CORP, "callback_token": TOKEN, "callback_aes_key": "short"})
    with pytest.raises(Exception, match="43-character"):
        cb.callback_keys(bad)


def event_xml(change: str, external: str, at: int) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[change_external_contact]]></Event>"
            f"<ChangeType><![CDATA[{change}]]></ChangeType><UserID><![CDATA[guide.one]]></UserID>"
            f"<ExternalUserID><![CDATA[{external}]]></ExternalUserID></xml>")  # fmt: skip


def signed(inner: str, nonce: str = "n1") -> tuple[dict[str, str], bytes]:
    sealed = cb.encrypt(keys(), inner)
    ts = "1764556800"
    query = {"msg_signature": cb.signature(TOKEN, ts, nonce, sealed), "timestamp": ts, "nonce": nonce}
    body = f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{sealed}]]></Encrypt></xml>"
    return query, body.encode()


def test_contact_deletion_through_the_console_opts_out_of_wecom(app_at, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from winback.web.server import bind, create_app, make_server

    with WecomServer(CORP, "wecom-secret") as wecom:
        extra = (f'[channels.wecom]\nbase_url = "{wecom.url}"\ncorpid = "{CORP}"\nsecret = "wecom-secret"\n'
                 f'callback_token = "{TOKEN}"\ncallback_aes_key = "{AES_KEY}"\n')  # fmt: skip
        wb = app_at(extra=extra)
        members = add_members(wb, 3)
        db = wb.db()
        db.execute("INSERT INTO staff (guide_id, name, wechat_id) VALUES ('G1', '导购一', 'guide.one')")
        db.execute("UPDATE members SET guide_id = 'G1', wechat_id = 'wm' || member_id, consent_wechat = TRUE")
        wecom.friends["guide.one"] = {"wmM00000", "wmM00001", "wmM00002"}
        app = create_app(wb, secret="wecom-test")
        sock = bind("127.0.0.1", 0)
        server = make_server(app)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        assert app.state.ready.wait(30)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/wecom/callback"
        try:
            with httpx.Client(timeout=30) as c:
                echo = cb.encrypt(keys(), "echo-1234567890")  # saving the URL in the admin console
                ts, nonce = "1764556800", "abc"
                q = {"msg_signature": cb.signature(TOKEN, ts, nonce, echo), "timestamp": ts, "nonce": nonce}
                r = c.get(url, params={**q, "echostr": echo})
                assert r.status_code == 200 and r.text == "echo-1234567890"
                query, body = signed(event_xml("del_follow_user", "wmM00001", 1764556800))
                r = c.post(url, params=query, content=body, headers={"Content-Type": "text/xml"})
                assert r.status_code == 200 and r.text == "success"
                r = c.post(url, params=query, content=body)  # WeCom's retry of the same event
                assert r.status_code == 200
                forged = dict(query, msg_signature="0" * 40)
                assert (
                    c.post(
                        url, params=forged, content=signed(event_xml("del_follow_user", "wmM00002", 1))[1]
                    ).status_code
                    == 400
                )
                other, body2 = signed("<xml><MsgType>event</MsgType><Event>change_external_contact</Event>"
                                      "<ChangeType>add_external_contact</ChangeType></xml>", nonce="n2")  # fmt: skip
                assert c.post(url, params=other, content=body2).status_code == 200
        finally:
            server.should_exit = True
            thread.join(30)
            sock.close()
        outs = wb.db().fetchall("SELECT member_id, channel, source, reason FROM opt_outs")
        assert outs == [("M00001", "wecom", "wecom_deleted", "del_follow_user")]
        assert wb.db().fetchone("SELECT count(*) FROM inbound_events WHERE kind = 'contact_deleted'") == (1,)
        queue(wb, members, "wecom")
        queue(wb, ["M00001"], "sms", step=2)
        wb = app_at(NOW + dt.timedelta(minutes=1))
        r = wb.outreach.dispatch(channel="wecom").channels[0]
        assert r.skipped == {"opted_out_channel": 1} and r.pending == 2
        skipped = wb.db().fetchall("SELECT member_id, reason FROM touches WHERE status = 'skipped'")
        assert skipped == [("M00001", "opted_out_channel")]
        assert wb.outreach.dispatch(channel="sms").channels[0].sent == 1  # only WeCom is closed
