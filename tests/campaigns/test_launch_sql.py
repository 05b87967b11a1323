"""The launch renders scripts in SQL: the same text as outreach.scripts.render for the same fields."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from winback.campaigns.store_launch import _script_sql
from winback.outreach.scripts import render

EXPIRES = dt.datetime(2026, 11, 30, 9)


@pytest.mark.parametrize(
    "template",
    [
        "{name}您好，{store}的{guide}为您准备了{offer}，券码 {code}，{expires} 前有效。",
        "It's {name}'s day: {{literal braces}} {unknown} {code}",
        "",
        "no fields at all",
    ],
)
@pytest.mark.parametrize("code", ["7KQ2M9XAPD4T", None])
def test_sql_script_equals_python_render(template: str, code: str | None) -> None:
    con = duckdb.connect()
    sql = _script_sql(template, EXPIRES)
    assert sql is not None
    got = con.execute(
        f"SELECT {sql} FROM (SELECT 'O''Neil 李' AS name) m, (SELECT NULL::VARCHAR AS name) s, "
        "(SELECT '静安店' AS name) st, (SELECT '满200减50' AS label) o, (SELECT ?::VARCHAR AS code) l",
        [code],
    ).fetchone()[0]
    shown = f"{code[:4]}-{code[4:8]}-{code[8:]}" if code else ""
    want = render(template, name="O'Neil 李", guide=None, store="静安店", offer="满200减50", code=shown,
                  expires=f"{EXPIRES:%Y-%m-%d}")  # fmt: skip
    assert got == want


def test_format_specs_fall_back_to_python() -> None:
    assert _script_sql("{name:>8}", EXPIRES) is None
    assert _script_sql("{name!r}", EXPIRES) is None
