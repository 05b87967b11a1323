"""The launch renders scripts in SQL: the same text as outreach.scripts.render for the same fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa
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


def test_codes_that_clash_are_drawn_again(brand: Any) -> None:
    """A code already issued, or drawn twice in one launch, is replaced (the others are kept); the coupons' primary
    key would otherwise refuse the launch."""
    from winback.campaigns.coupons import is_valid
    from winback.campaigns.store_launch import _redraw_clashes

    db = brand.db()
    db.execute(
        "INSERT INTO coupons (code, campaign_id, member_id, variant_key, offer_kind, offer_value, offer_threshold, "
        "issued_at, expires_at) VALUES ('22222222222Z', 'C0', 'M0', 'A', 'voucher', 50, 200, ?, ?)",
        [EXPIRES, EXPIRES],
    )
    codes = ["22222222222Z", "33333333333Z", "33333333333Z", None, "44444444444Z"]
    members = pa.table({"member_id": ["M1", "M2", "M3", "M4", "M5"], "code": pa.array(codes, pa.string())})
    got = _redraw_clashes(db, members)["code"].to_pylist()
    assert got[3] is None and got[4] == "44444444444Z"  # no code stays none, a free code is kept
    fresh = [got[0], got[1], got[2]]
    assert len(set(fresh)) == 3 and not {"22222222222Z", "33333333333Z"} & set(fresh)
    assert all(is_valid(c) for c in fresh)
