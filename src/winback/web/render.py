"""JSON for the API: the typed results' `to_dict()`, dates as ISO text, NaN and infinities as null."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from pathlib import Path
from typing import Any

from starlette.responses import JSONResponse


def plain_json(value: Any) -> Any:
    """A JSON-ready copy: results via to_dict(), dates ISO, Decimals and numpy scalars as floats, NaN as None."""
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return plain_json(value.to_dict())
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class ResultJSON(JSONResponse):
    """A JSONResponse that takes a typed result (or anything plain_json takes), UTF-8, Chinese unescaped."""

    def render(self, content: Any) -> bytes:
        return result_bytes(content)


def error_doc(kind: str, message: str, hint: str | None) -> dict[str, Any]:
    """The one error shape every route answers a failure with: {"error": {"type", "message", "hint"}}."""
    return {"error": {"type": kind, "message": message, "hint": hint}}


def result_bytes(content: Any) -> bytes:
    return json.dumps(plain_json(content), ensure_ascii=False, allow_nan=False).encode("utf-8")


class CachedJSON(ResultJSON):
    """A ResultJSON of an answer kept by the answer cache (web/cache.py): its JSON rendered once, then reused."""

    def __init__(self, content: Any, cache: Any, status_code: int = 200) -> None:
        self._cache = cache
        super().__init__(content, status_code=status_code)

    def render(self, content: Any) -> bytes:
        return self._cache.rendered(content, result_bytes)  # type: ignore[no-any-return]
