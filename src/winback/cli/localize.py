"""The CLI in the user's language: command and option help, typer's panels and its own messages.

Help texts are English msgids in the source (docstrings and `help=`), translated here, once, before typer
formats anything: the language comes from `--lang` on the command line, else the settings (WINBACK_LANG, zh).
typer.core and typer.rich_utils build their words with gettext's `_`: we give those modules ours, backed by the
catalogue. typer 0.29 carries its own copy of click (`typer._click`, f-strings, no gettext; the installed click
package is not used): its usage line, help option and error messages are translated by cli/typer_messages.py.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from typing import Any

from winback import i18n
from winback.i18n import N_

# typer's panel titles and texts (msgids as typer spells them)
_PANELS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    "DEFAULT_STRING": N_("[default: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "DEPRECATED_STRING": N_("(deprecated) "),
}
#: typer.core and typer.rich_utils use gettext (typer's copy of click does not: cli/typer_messages.py)
_GETTEXT_MODULES = ("typer.core", "typer.rich_utils")


def lang_from_argv(argv: Sequence[str]) -> str | None:
    """The value of a global `--lang X` / `--lang=X` on the command line, if any."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def startup_lang(argv: Sequence[str] | None = None) -> str:
    """The language to print help and usage errors in (an invalid value is reported later by the callback)."""
    from winback.config import Settings
    from winback.errors import WinbackError

    given = lang_from_argv(sys.argv[1:] if argv is None else argv)
    if given in i18n.LANGS:
        return given
    try:
        return Settings.load().lang
    except WinbackError:
        return i18n.DEFAULT_LANG


def localize(command: Any, lang: str) -> None:
    """Translate the help of `command` (a typer click command) and everything under it, and typer's own
    messages, into `lang`."""
    from winback.cli import typer_messages

    i18n.set_lang(lang)
    _patch_gettext(lang)
    typer_messages.install(lang)
    _translate_tree(command, lang, set())


def _translate_tree(command: Any, lang: str, seen: set[int]) -> None:
    if id(command) in seen:
        return
    seen.add(id(command))
    original = command.__dict__.setdefault("_winback_msgids", (command.help, command.short_help))
    command.help = i18n.t(original[0], lang) if original[0] else original[0]
    command.short_help = i18n.t(original[1], lang) if original[1] else original[1]
    for param in command.params:
        msgid = param.__dict__.setdefault("_winback_msgid", getattr(param, "help", None))
        if msgid:
            param.help = i18n.t(msgid, lang)  # type: ignore[attr-defined]
    for sub in (getattr(command, "commands", None) or {}).values():  # a group's subcommands
        _translate_tree(sub, lang, seen)


def _patch_gettext(lang: str) -> None:
    """typer.core's gettext now; typer.rich_utils' (help panels, error boxes: ~0.15 s of imports, rich.markdown
    among them) when typer first imports it, which a command that prints neither help nor an error never does."""
    import importlib

    _LANG[0] = lang
    _patch_module(importlib.import_module("typer.core"))
    if _RICH_UTILS in sys.modules:
        _patch_module(sys.modules[_RICH_UTILS])
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


_RICH_UTILS = "typer.rich_utils"
_LANG = [i18n.DEFAULT_LANG]  # the language of the last localize(): a module imported later is patched to it


def _gettext(message: str) -> str:
    return i18n.t(message, _LANG[0])


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.t(singular if n == 1 else plural, _LANG[0])


def _patch_module(module: Any) -> None:
    if hasattr(module, "_"):
        module._ = _gettext
    if hasattr(module, "ngettext"):
        module.ngettext = _ngettext
    if module.__name__ == _RICH_UTILS:
        for attr, msgid in _PANELS.items():
            setattr(module, attr, i18n.t(msgid, _LANG[0]))


class _PatchOnImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds typer.rich_utils as usual, then patches it (`_patch_module`) once it has run; then steps aside."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != _RICH_UTILS:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        self._loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        _patch_module(module)
