"""Channels as plugins: each one turns ledger rows into calls to a provider (docs/outreach.md, "Writing a channel").

A channel is found by name in the entry-point group `winback.channels` (the built-ins ship the same way, see
BUILTINS); the entry point names a class (or factory) called with the channel's `ChannelConfig` from the
channels file. The class follows `contract.Channel`: it sees `LedgerRow`s only, never the warehouse, and answers
with one `SendResult` per row.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from winback.errors import ConfigError
from winback.i18n import _

if TYPE_CHECKING:
    from winback.outreach.channels.contract import Channel
    from winback.outreach.config import ChannelConfig

GROUP = "winback.channels"
#: the built-in channels, exactly as pyproject's [project.entry-points."winback.channels"] lists them (used
#: while an editable install predates that block; an installed plugin of the same name wins)
BUILTINS = (
    ("webhook", "winback.outreach.channels.webhook:WebhookChannel"),
    ("sms", "winback.outreach.channels.sms:SmsChannel"),
    ("email", "winback.outreach.channels.email:EmailChannel"),
    ("wecom", "winback.outreach.channels.wecom:WecomChannel"),
    ("ai_call", "winback.outreach.channels.ai_call:AiCallChannel"),
    ("task_sheet", "winback.outreach.channels.task_sheet:TaskSheetChannel"),
)


def plugin_names() -> list[str]:
    names = {n for n, _ in BUILTINS} | {ep.name for ep in entry_points(group=GROUP)}
    return sorted(names)


def _target(plugin: str) -> str:
    for ep in entry_points(group=GROUP):
        if ep.name == plugin:
            return str(ep.value)
    for name, target in BUILTINS:
        if name == plugin:
            return target
    raise ConfigError(
        _("no channel plugin named {plugin!r}", plugin=plugin),
        hint=_(
            "Available: {names}; plugins register in the entry-point group {group}.",
            names=", ".join(plugin_names()),
            group=GROUP,
        ),
    )


def load_channel(config: ChannelConfig) -> Channel:
    """The plugin the config names (`plugin`, default: the channel's own name), built with its config."""
    module, _sep, attr = _target(config.plugin).partition(":")
    factory = getattr(import_module(module), attr)
    return factory(config)  # type: ignore[no-any-return]
