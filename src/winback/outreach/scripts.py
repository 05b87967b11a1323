"""Filling script templates ({name} {guide} {store} {offer} {code} {expires}). Pure."""

from __future__ import annotations


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(template: str, **fields: object) -> str:
    """The template with known fields filled; unknown or missing fields become empty (never an error)."""
    values = _Blank({k: "" if v is None else str(v) for k, v in fields.items()})
    return template.format_map(values)
