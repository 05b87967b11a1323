"""Scheme and segment names as people type them: the id, the Chinese label or the English label. Pure.

`winback members --segment 沉默会员` means the same as `--segment silent`; `--scheme 会员生命周期` the same as
`--scheme lifecycle`; an English label may leave out its explanation in brackets (`silent` for "silent (90–179
days)"). Case, spaces, hyphens, underscores and full-width forms do not matter. A name that fits several segments is an
error listing them; a segment of another scheme is named in the hint (the scheme is never switched silently).
The schemes are the stored rules of a snapshot: {scheme: {"zh", "en", "rules": [{"segment", "zh", "en", …}]}}.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from winback.errors import InputError
from winback.i18n import _, get_lang


def name_key(text: str) -> str:
    """The form two names are compared in: NFKC (full-width to half-width), case-folded, without spaces, "-" and
    "_" (near_dormant = near-dormant = Near Dormant)."""
    return re.sub(r"[\s_-]+", "", unicodedata.normalize("NFKC", text)).casefold()


def _names(entry: Mapping[str, Any], key: str) -> set[str]:
    """The id and both labels, each label also without its trailing explanation ("silent (90–179 days)")."""
    labels = [str(entry[k]) for k in (key, "zh", "en") if entry.get(k)]
    return {name_key(n) for label in labels for n in (label, _BRACKET.sub("", label)) if n.strip()}


_BRACKET = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


def resolve_scheme(schemes: Mapping[str, Mapping[str, Any]], given: str) -> str:
    """The scheme id `given` names (its id, zh or en label); unchanged when it names none (the caller says so)."""
    if given in schemes:
        return given
    key = name_key(given)
    found = [name for name, sch in schemes.items() if key in _names({"id": name, **sch}, "id")]
    if len(found) > 1:
        raise InputError(
            _("the scheme name {name!r} is ambiguous", name=given),
            hint=_("It names the schemes {choices}: give the id.", choices=", ".join(found)),
        )
    return found[0] if found else given


def resolve_segments(schemes: Mapping[str, Mapping[str, Any]], scheme: str, given: Sequence[str]) -> list[str]:
    """The segment ids of `scheme` that `given` names (ids, zh or en labels), in the order given."""
    rules = schemes[scheme]["rules"]
    out: list[str] = []
    for name in given:
        if any(r["segment"] == name for r in rules):
            out.append(name)
            continue
        key = name_key(name)
        found = [r for r in rules if key in _names(r, "segment")]
        if len(found) > 1:
            raise InputError(
                _("the segment name {name!r} is ambiguous in scheme {scheme!r}", name=name, scheme=scheme),
                hint=_("It names {choices}: give the id.", choices=", ".join(_shown(r) for r in found)),
            )
        if not found:
            raise _unknown_segment(schemes, scheme, name, key)
        out.append(str(found[0]["segment"]))
    return out


def _shown(rule: Mapping[str, Any]) -> str:
    """The id and the label in the current language: silent (沉默会员)."""
    return f"{rule['segment']} ({rule['en' if get_lang() == 'en' else 'zh']})"


def _unknown_segment(schemes: Mapping[str, Mapping[str, Any]], scheme: str, name: str, key: str) -> InputError:
    elsewhere = [
        (other, r)
        for other, sch in schemes.items()
        if other != scheme
        for r in sch["rules"]
        if key in _names(r, "segment")
    ]
    known = ", ".join(_shown(r) for r in schemes[scheme]["rules"])
    if elsewhere:
        hint = _(
            "{name!r} is a segment of {where}: add --scheme. Segments of {scheme}: {known}.",
            name=name,
            where=", ".join(f"--scheme {other} ({r['segment']})" for other, r in elsewhere),
            scheme=scheme,
            known=known,
        )
    else:
        hint = _("Segments of {scheme}: {known} (choose another scheme with --scheme).", scheme=scheme, known=known)
    return InputError(_("unknown segment {name!r} in scheme {scheme!r}", name=name, scheme=scheme), hint=hint)
