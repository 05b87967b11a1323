"""WeCom's (企业微信) callback messages: the signature, the AES-256-CBC envelope, the customer-contact events.

WeCom calls the configured URL with `msg_signature`, `timestamp`, `nonce` in the query:
- `GET …&echostr=E` when the URL is saved (answer: E decrypted, as plain text);
- `POST` with `<xml><ToUserName/><AgentID/><Encrypt>E</Encrypt></xml>` for each event.
`msg_signature` = sha1 of the sorted concatenation of (token, timestamp, nonce, E). E is base64 of AES-256-CBC
(key = base64 of the 43-character EncodingAESKey plus "=", IV = the key's first 16 bytes, PKCS#7 padding to 32-byte
blocks) over: 16 random bytes, the message's length (4 bytes, big-endian), the message, the receiver id (the
corpid). WeCom has no plaintext mode for callbacks (unlike Official Accounts), so this is the only mode.

The events read here: `MsgType=event`, `Event=change_external_contact`, `ChangeType` `del_external_contact` (the
guide removed the customer) or `del_follow_user` (the customer removed the guide): either way the member can no
longer be reached on WeCom, so it is a WeCom opt-out. Other events are acknowledged and ignored.

[channels.wecom]: callback_token, callback_aes_key (the EncodingAESKey; both secret), corpid."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING

from winback.errors import ConfigError, InputError
from winback.i18n import _
from winback.outreach.channels.aes_cbc import cbc_decrypt, cbc_encrypt

if TYPE_CHECKING:
    from winback.outreach.config import ChannelConfig

PAD_BLOCK = 32
MAX_BODY = 64 * 1024
DELETIONS = frozenset({"del_external_contact", "del_follow_user"})


@dataclass(frozen=True)
class CallbackKeys:
    token: str
    aes_key: bytes
    corpid: str

    def __repr__(self) -> str:
        return f"CallbackKeys(corpid={self.corpid!r}, token=***, aes_key=***)"


@dataclass(frozen=True)
class ContactDeleted:
    change_type: str  # del_external_contact | del_follow_user
    user_id: str  # the guide's WeCom userid
    external_userid: str  # the customer
    event_key: str  # the same for WeCom's retries of one event


def callback_keys(config: ChannelConfig) -> CallbackKeys:
    token, key = config.require("callback_token"), str(config.require("callback_aes_key"))
    try:
        raw = base64.b64decode(key + "=", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(key) != 43 or len(raw) != 32:
        raise ConfigError(
            _("channel {name}: callback_aes_key must be the 43-character EncodingAESKey", name=config.name),
            hint=_("Copy it from the WeCom admin console (应用 → 接收消息 → 设置API接收)."),
        )
    return CallbackKeys(str(token), raw, str(config.require("corpid")))


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def verify(keys: CallbackKeys, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
    if not hmac.compare_digest(signature(keys.token, timestamp, nonce, encrypted), msg_signature or ""):
        raise InputError(
            _("the WeCom callback's signature does not match"),
            hint=_("Check that callback_token equals the Token set in the WeCom admin console."),
        )


def decrypt(keys: CallbackKeys, encrypted: str) -> str:
    """The message inside a callback's envelope (its receiver id must be our corpid)."""
    bad = InputError(
        _("the WeCom callback could not be decrypted"),
        hint=_("Check that callback_aes_key equals the EncodingAESKey set in the WeCom admin console."),
    )
    try:
        data = base64.b64decode(encrypted, validate=True)
        plain = cbc_decrypt(keys.aes_key, keys.aes_key[:16], data)
    except (binascii.Error, ValueError, InputError):
        raise bad from None
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= PAD_BLOCK or plain[-pad:] != bytes([pad]) * pad or len(plain) < 20 + pad:
        raise bad
    body = plain[16:-pad]
    (n,) = struct.unpack(">I", body[:4])
    msg, receiver = body[4 : 4 + n], body[4 + n :]
    if len(msg) != n or receiver.decode("utf-8", "replace") != keys.corpid:
        raise bad
    return msg.decode("utf-8")


def encrypt(keys: CallbackKeys, message: str, random16: bytes | None = None) -> str:
    """The envelope WeCom would send (for a passive reply, and the tests' WeCom)."""
    msg = message.encode()
    body = (random16 or secrets.token_bytes(16)) + struct.pack(">I", len(msg)) + msg + keys.corpid.encode()
    pad = PAD_BLOCK - len(body) % PAD_BLOCK
    return base64.b64encode(cbc_encrypt(keys.aes_key, keys.aes_key[:16], body + bytes([pad]) * pad)).decode()


def xml_fields(body: bytes) -> dict[str, str]:
    """The top-level elements of a WeCom XML message (no DTDs, no entities: such a body is refused)."""
    if len(body) > MAX_BODY or b"<!" in body.replace(b"<![CDATA[", b""):
        raise InputError(_("the WeCom callback's body is not a WeCom XML message"))
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise InputError(_("the WeCom callback's body is not XML: {error}", error=exc)) from None
    return {child.tag: (child.text or "").strip() for child in root}


def contact_deleted(fields: dict[str, str]) -> ContactDeleted | None:
    """A contact deletion from a decrypted event, or None for any other event."""
    if fields.get("Event") != "change_external_contact" or fields.get("ChangeType") not in DELETIONS:
        return None
    ids = (fields.get("ToUserName", ""), fields["ChangeType"], fields.get("UserID", ""),
           fields.get("ExternalUserID", ""), fields.get("CreateTime", ""))  # fmt: skip
    key = "wecom:" + hashlib.sha256("\x1f".join(ids).encode()).hexdigest()
    return ContactDeleted(fields["ChangeType"], ids[2], ids[3], key)
