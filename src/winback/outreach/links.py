"""Per-touch short links and the click log they come back in. Pure.

With a `[links]` table in the channels file, every touch a text channel sends (sms, wecom, email, webhook) carries
its own short link `{base}{code}`: the script's `{link}` is replaced by it, or it is appended; the SMS template and
the webhook body also get it as the `link` parameter. The code is drawn once per idempotency key and stored
(short_links), so a retry or a resend after a crash carries the same link. The web console serves `GET /s/{code}`
(web/routes/links.py: records the click, then a 302 to the target stored with the code), so `base` is the
console's public address followed by `/s/`; a click log of another redirect server is imported with
`winback tasks clicks FILE` (CSV or JSON lines: code or the short URL, time, optional client). Both land in
link_clicks and feed the same funnel.

    [links]
    base = "https://s.brand.cn/s/"                     # the short link's prefix
    target = "https://m.brand.cn/a/{campaign_id}"      # where it leads ({campaign_id} {member_id} {code})
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from winback.errors import ConfigError, InputError
from winback.i18n import _

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CODE_LENGTH = 8  # 62**8 ≈ 2.2e14 codes
LINK_CHANNELS = frozenset({"sms", "wecom", "email", "webhook"})
_CODE = re.compile(r"^[0-9A-Za-z]{6,16}$")


@dataclass(frozen=True)
class LinkSettings:
    base: str
    target: str

    def url(self, code: str) -> str:
        return f"{self.base}{code}"

    def target_of(self, campaign_id: str | None, member_id: str, code: str) -> str:
        return self.target.format(campaign_id=campaign_id or "", member_id=member_id, code=code)


def link_settings(raw: Mapping[str, Any] | None) -> LinkSettings | None:
    """The channels file's [links] table (None when there is none)."""
    if not raw:
        return None
    base, target = raw.get("base"), raw.get("target")
    if not isinstance(base, str) or not base.startswith(("https://", "http://")):
        raise ConfigError(
            _("[links] base must be an http(s) URL prefix, got {value!r}", value=base),
            hint=_('For example: base = "https://s.brand.cn/s/"'),
        )
    if not isinstance(target, str) or not target.startswith(("https://", "http://")):
        raise ConfigError(
            _("[links] target must be an http(s) URL, got {value!r}", value=target),
            hint=_('For example: target = "https://m.brand.cn/a/{campaign_id}"'),
        )
    try:
        target.format(campaign_id="C", member_id="M", code="x")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            _("[links] target {value!r} names an unknown placeholder {error}", value=target, error=exc),
            hint=_("Use {campaign_id}, {member_id} or {code}."),
        ) from exc
    return LinkSettings(base, target)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def with_link(text: str, url: str) -> str:
    """The script with its `{link}` replaced by the short link, or the link appended."""
    return text.replace("{link}", url) if "{link}" in text else (f"{text} {url}" if text else url)


@dataclass(frozen=True)
class Click:
    key: str
    code: str
    clicked_at: dt.datetime
    client: str | None


def read_click(raw: Mapping[str, Any], where: str) -> Click:
    """One line of a click log: `code` (or `url`, the short link), `clicked_at` (or `time`), optional `client`
    (or `user_agent` / `ip`). Its key (a sha256 of the three) makes a re-imported log add nothing."""
    ref = str(raw.get("code") or raw.get("url") or "").strip()
    code = ref.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    if not _CODE.match(code):
        raise InputError(
            _("{where}: {value!r} is not a short link code or URL", where=where, value=ref),
            hint=_("Each line needs code (or url) and clicked_at."),
        )
    when = str(raw.get("clicked_at") or raw.get("time") or "").strip()
    try:
        at = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            _("{where}: the click time {value!r} is not a date and time", where=where, value=when),
            hint=_("Write it as ISO 8601, e.g. 2026-11-23T10:15:00 or 2026-11-23 10:15:00+08:00."),
        ) from None
    if at.tzinfo is not None:  # the brand's clock is Beijing time, without a zone
        at = at.astimezone(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None)
    client = raw.get("client") or raw.get("user_agent") or raw.get("ip")
    client = str(client)[:300] if client else None
    key = hashlib.sha256(f"{code}\x1f{at.isoformat()}\x1f{client or ''}".encode()).hexdigest()
    return Click(key, code, at, client)


def served_click(code: str, at: dt.datetime, client: str | None) -> Click | None:
    """A click the console's redirect served (None: not a code's shape, so no code at all). Every request is its
    own click (a random key: a refresh adds a click, not a clicker; unique clicks are counted per code/member)."""
    if not _CODE.match(code):
        return None
    return Click(secrets.token_hex(16), code, at, client[:300] if client else None)
