"""Tiny helpers for writing SQL text safely (identifiers and string literals)."""

from __future__ import annotations


def q(name: str) -> str:
    """Quote an identifier: 会员卡号 -> "会员卡号", a"b -> "a""b"."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
