"""rows_in = rows_loaded + rows_rejected + rows_duplicate for every kind, first import and re-import."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_util import write_csv

from winback.ingest import import_file

FILES = {
    "members": (
        ["会员卡号", "生日", "积分"],
        [["A", "1990-1-1", "5"], ["A", "", "6"], ["", "x", "1"], ["B", "bad", "x"]],
    ),
    "orders": (
        ["单号", "销售时间", "实收金额"],
        [
            ["1", "2024-1-1", "5"],
            ["1", "2024-1-1", "6"],
            ["2", "nope", "1"],
            ["3", "2024-1-2", "x"],
            ["4", "2024-1-3", "1"],
        ],
    ),
    "order-items": (
        ["订单号", "商品编码", "数量"],
        [["1", "S", "1"], ["1", "T", "2"], ["", "S", "1"], ["2", "S", "1.5"]],
    ),
    "stores": (["门店编号", "开业日期"], [["S1", "2020-01-01"], ["S1", "2020-01-01"], ["", "2020-01-01"]]),
    "staff": (["工号", "手机"], [["G1", "13912345678"], ["G2", "123"], ["", "1"]]),
    "events": (
        ["会员卡号", "行为", "发生时间"],
        [
            ["A", "view", "2024-01-01 10:00"],
            ["A", "view", "2024-01-01 10:00"],
            ["A", "", "2024-01-01"],
            ["B", "cart", "?"],
        ],
    ),
}


@pytest.mark.parametrize("kind", sorted(FILES))
def test_counts_add_up(con, db, tmp_path: Path, kind: str) -> None:
    header, rows = FILES[kind]
    f = write_csv(tmp_path / f"{kind}.csv", header, rows)
    for attempt in range(2):
        r = import_file(db, kind, f)
        assert r.rows_in == len(rows)
        assert r.rows_in == r.rows_loaded + r.rows_rejected + r.rows_duplicate
        assert r.rows_rejected > 0 and (r.rows_loaded > 0 if attempt == 0 else r.rows_loaded == 0)
        n = con.execute("SELECT count(*) FROM rejects WHERE import_id = ?", [r.import_id]).fetchone()
        assert n == (r.rows_rejected,)
