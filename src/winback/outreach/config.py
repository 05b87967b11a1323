"""The channels file (TOML, `--channels FILE` or the `channels` setting): one table per channel, plus
[pressure]. Secrets (any key named like *secret*, *password*, *token*, *aes_key*) are kept out of every repr,
message and ledger row.

    [pressure]
    caps = { day = 1, week = 3, month = 6 }     # every channel together, per member
    quiet_hours = "21:00-09:00"                  # default: the quiet_hours setting
    [pressure.channel.sms]
    month = 2

    [channels.webhook]
    url = "https://crm.example.com/hooks/winback"
    secret = "…"

    [channels.sms]                                # plugin defaults to the table's name
    endpoint = "https://dysmsapi.aliyuncs.com/"
    access_key_id = "…"
    access_key_secret = "…"
    sign_name = "某某品牌"
    template_code = "SMS_123456"
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from winback.errors import ConfigError
from winback.i18n import _

SECRET_MARKS = ("secret", "password", "token", "passwd", "private", "aes_key")


def is_secret(key: str) -> bool:
    k = key.lower()
    return any(m in k for m in SECRET_MARKS)


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    plugin: str
    values: Mapping[str, Any] = field(repr=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def require(self, key: str) -> Any:
        if self.values.get(key) in (None, ""):
            raise ConfigError(
                _("channel {name} has no {key}", name=self.name, key=key),
                hint=_("Add {key} to [channels.{name}] in the channels file.", key=key, name=self.name),
            )
        return self.values[key]

    def shown(self) -> dict[str, Any]:
        """The settings with secrets as '***' (for printing)."""
        return {k: ("***" if is_secret(k) and v else v) for k, v in self.values.items()}

    def __repr__(self) -> str:
        return f"ChannelConfig(name={self.name!r}, plugin={self.plugin!r}, values={self.shown()!r})"


@dataclass(frozen=True)
class ChannelsFile:
    path: Path | None
    channels: Mapping[str, ChannelConfig]
    pressure: Mapping[str, Any]
    links: Mapping[str, Any] = field(default_factory=dict)  # [links]: per-touch short links (outreach.links)


def load_channels(path: Path | None) -> ChannelsFile:
    """Read and check the channels file; None gives no channels (dispatch then says how to configure one)."""
    if path is None:
        return ChannelsFile(None, {}, {})
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            _("channels file not found: {path}", path=path),
            hint=_("Point --channels FILE or WINBACK_CHANNELS at it."),
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            _("the channels file is not valid TOML: {path}: {error}", path=path, error=exc),
            hint=_("See the example in docs/outreach.md."),
        ) from exc
    unknown = set(raw) - {"channels", "pressure", "links"}
    if unknown:
        raise ConfigError(
            _("unknown tables in the channels file: {tables}", tables=sorted(unknown)),
            hint=_("Only [channels.NAME], [pressure] and [links] are allowed."),
        )
    tables = raw.get("channels", {})
    if not isinstance(tables, dict) or not all(isinstance(v, dict) for v in tables.values()):
        raise ConfigError(
            _("every channel under [channels] must be a table"),
            hint=_("For example: [channels.webhook] with url = …"),
        )
    channels = {
        str(name): ChannelConfig(str(name), str(t.get("plugin", name)), {k: v for k, v in t.items() if k != "plugin"})
        for name, t in tables.items()
    }
    return ChannelsFile(Path(path), channels, dict(raw.get("pressure", {})), dict(raw.get("links", {})))
