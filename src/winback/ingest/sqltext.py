"""Tiny helpers for writing SQL text safely (identifiers and string literals)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def q(name: str) -> str:
    """Quote an identifier: 会员卡号 -> "会员卡号", a"b -> "a""b"."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def names_of(columns: Mapping[str, str] | Sequence[str]) -> dict[str, str]:
    """The file's columns -> their names in the staging relation (`Staged.names`); a plain list of names stands
    for itself (a staging relation built by hand, as tests do)."""
    return dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
