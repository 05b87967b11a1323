"""Typed results: services return dataclasses; `to_dict()` gives the stable JSON shape the CLI prints."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any


def plain(value: Any) -> Any:
    """Nested results, lists and dicts turned into JSON-ready values (dates and Decimals are left to the
    encoder)."""
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class Result:
    """Mixin for a service's result dataclass: `to_dict()` lists the fields in order, nested results included.
    Override `to_dict` where the JSON keys differ from the field names."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]
