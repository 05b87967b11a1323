"""typer's own messages (usage errors, the help option, the usage line) in the user's language.

typer 0.29 carries its own copy of click (`typer._click`) that spells its messages with f-strings, not gettext,
and checks option values with pydantic. So they cannot be swapped through gettext; instead each English text is
a msgid with `{placeholders}` where typer fills values in, and `translate` matches a finished message against
them (placeholders match anything; a `{message}` inside is translated in turn, `{kind}` is typer's own word).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from winback import i18n
from winback.i18n import N_

HELP_OPTION = N_("Show this message and exit.")
USAGE = N_("Usage:")

#: most specific first: the first pattern that matches the whole message wins
MESSAGES = (
    N_("Invalid value for {param}: {message}"),
    N_("Invalid value: {message}"),
    N_("Missing option {param}. {message}"),
    N_("Missing argument {param}. {message}"),
    N_("Missing parameter {param}. {message}"),
    N_("Missing option {param}."),
    N_("Missing argument {param}."),
    N_("Missing parameter {param}."),
    N_("Missing parameter: {name}"),
    N_("No such option: {name} (Possible options: {possibilities})"),
    N_("No such option: {name}"),
    N_("Option {name} does not take a value."),
    N_("Option {name} requires an argument."),
    N_("Option {name} requires {nargs} arguments."),
    N_("Argument {name} takes {nargs} values."),
    N_("Got unexpected extra argument(s) ({args})"),
    N_("Value must be an iterable."),
    N_("Value {value} is not a valid {kind}."),
    N_("Choose from:\n\t{choices}"),
    N_("{kind} {name} does not exist."),
    N_("{kind} {name} is a file."),
    N_("{kind} {name} is a directory."),
    N_("{kind} {name} is not readable."),
    N_("{kind} {name} is not writable."),
    N_("Could not open file {name}: {message}"),
    N_("unknown error"),
    # pydantic's words for the values typer checks (int, float and bool options)
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid integer, got a number with a fractional part"),
    N_("Input should be a valid boolean, unable to interpret input"),
    N_("Input should be a finite number"),
)
#: typer's words that fill a {kind}: the type of a path
WORDS = (N_("file"), N_("dir"), N_("path"))
#: typer.core's and typer.rich_utils' own msgids (they do use gettext; cli/localize.py swaps it)
GETTEXT = (
    N_("Missing command."), N_("No such command {name!r}."), N_("required"), N_("default: {default}"),
    N_("env var: {var}"), N_("(dynamic)"), N_("Aborted!"), N_("Arguments"), N_("Options"), N_("Commands"),
)  # fmt: skip

_FIELD = re.compile(r"\{(\w+)\}")


@functools.cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    out = []
    for msgid in MESSAGES:
        parts = _FIELD.split(msgid)  # literal, name, literal, name, ...
        rx = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
        out.append((re.compile(rx, re.DOTALL), msgid))
    return tuple(out)


def translate(text: str, lang: str) -> str:
    """`text`, a message typer composed in English, in `lang` (unchanged if no pattern matches it)."""
    if lang == "en" or not text:
        return text
    for rx, msgid in _patterns():
        m = rx.fullmatch(text)
        if m is None:
            continue
        values = m.groupdict()
        if "message" in values:
            values["message"] = translate(values["message"], lang)
        if "kind" in values:
            values["kind"] = i18n.t(values["kind"], lang)
        return i18n.t(msgid, lang, **values)
    return text


def install(lang: str) -> None:
    """Make typer print its usage line, help option and error messages in `lang` (idempotent; the last call's
    language wins)."""
    from typer._click import core, exceptions, formatting

    _state["lang"] = lang
    if _state.get("installed"):
        return
    _state["installed"] = True
    for cls in vars(exceptions).values():
        if isinstance(cls, type) and "format_message" in vars(cls):
            cls.format_message = _translated(cls.format_message)
    base = exceptions.ClickException
    if "format_message" not in vars(base):
        base.format_message = _translated(base.format_message)
    write_usage = formatting.HelpFormatter.write_usage

    def localized_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, prefix if prefix is not None else i18n.t(USAGE, _state["lang"]) + " ")

    formatting.HelpFormatter.write_usage = localized_usage
    get_help_option = core.Command.get_help_option

    def localized_help_option(self: Any, ctx: Any) -> Any:
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = i18n.t(HELP_OPTION, _state["lang"])
        return option

    core.Command.get_help_option = localized_help_option


_state: dict[str, Any] = {}


def _translated(format_message: Any) -> Any:
    @functools.wraps(format_message)
    def wrapper(self: Any) -> str:
        return translate(format_message(self), _state.get("lang", "en"))

    return wrapper
