"""Header aliases and column mapping; encoding detection and chunked GBK transcoding."""

from __future__ import annotations

from pathlib import Path

import pytest

from winback.common.encoding import CHUNK, detect_encoding, resolve_encoding, transcode_to_utf8
from winback.errors import InputError
from winback.ingest.aliases import normalise_header, parse_map_options, resolve_mapping


def test_normalise_header() -> None:
    assert normalise_header(" Order_ID ") == "orderid"
    assert normalise_header("ＯＲＤＥＲ－ＩＤ") == "orderid"
    assert normalise_header("实收金额(元)") == "实收金额"
    assert normalise_header("实付金额（元）") == "实付金额"


@pytest.mark.parametrize(
    ("kind", "header", "field"),
    [
        ("members", "会员编号", "member_id"),
        ("members", "卡号", "member_id"),
        ("members", "手机号码", "phone"),
        ("members", "注册时间", "register_date"),
        ("members", "开卡门店", "register_store"),
        ("members", "专属导购", "guide_id"),
        ("members", "微信", "wechat_id"),
        ("members", "Member ID", "member_id"),
        ("members", "SMS Opt-in", "consent_sms"),
        ("orders", "订单号", "order_id"),
        ("orders", "小票号", "order_id"),
        ("orders", "营业员", "guide_id"),
        ("orders", "下单时间", "ordered_at"),
        ("orders", "实付金额", "amount"),
        ("orders", "数量", "quantity"),
        ("orders", "InvoiceNo", "order_id"),
        ("orders", "Invoice Date", "ordered_at"),
        ("orders", "StockCode", "sku"),
        ("stores", "门店名称", "name"),
        ("stores", "开业日期", "opened_at"),
        ("staff", "工号", "guide_id"),
    ],
)
def test_aliases(kind: str, header: str, field: str) -> None:
    assert resolve_mapping(kind, [header]).fields == {field: header}


def test_first_column_wins_and_unknown_columns_are_kept() -> None:
    m = resolve_mapping("orders", ["订单号", "单号", "颜色"])
    assert m.fields == {"order_id": "订单号"} and m.kept == ["单号", "颜色"]


@pytest.mark.usefixtures("english")
def test_parse_map_options() -> None:
    assert parse_map_options(["a=order_id", "b=", "c=-"]) == {"a": "order_id", "b": "-", "c": "-"}
    with pytest.raises(InputError, match="is not SRC=DST"):
        parse_map_options(["oops"])


def _chinese_text(n_lines: int) -> str:
    return "会员卡号,姓名\n" + "".join(f"V{i},张三丰{i}号\n" for i in range(n_lines))


def test_detect_encodings(tmp_path: Path, english: None) -> None:
    text = _chinese_text(10)
    (tmp_path / "u.csv").write_text(text, encoding="utf-8")
    (tmp_path / "b.csv").write_bytes(text.encode("utf-8-sig"))
    (tmp_path / "g.csv").write_bytes(text.encode("gbk"))
    assert detect_encoding(tmp_path / "u.csv") == "utf-8"
    assert detect_encoding(tmp_path / "b.csv") == "utf-8-sig"
    assert detect_encoding(tmp_path / "g.csv") == "gb18030"
    assert resolve_encoding(tmp_path / "b.csv", "utf-8") == "utf-8-sig"
    with pytest.raises(InputError, match="unknown encoding"):
        resolve_encoding(tmp_path / "u.csv", "latin-9")
    (tmp_path / "w.csv").write_bytes(text.encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        detect_encoding(tmp_path / "w.csv")


def test_transcode_crosses_chunk_boundaries(tmp_path: Path) -> None:
    text = _chinese_text(CHUNK // 8)  # several MiB: multibyte characters are cut by chunk edges
    src = tmp_path / "g.csv"
    src.write_bytes(text.encode("gbk"))
    assert src.stat().st_size > 2 * CHUNK
    dst = tmp_path / "u.csv"
    seen: list[int] = []
    transcode_to_utf8(src, dst, "gbk", seen.append)
    assert dst.read_text(encoding="utf-8") == text
    assert len(seen) >= 3 and seen[-1] == src.stat().st_size


def test_bad_gbk_says_where(tmp_path: Path, english: None) -> None:
    src = tmp_path / "bad.csv"
    src.write_bytes(b"a,b\n" + b"\xff\xff\xff\n")
    with pytest.raises(InputError, match="not valid gb18030 near byte"):
        transcode_to_utf8(src, tmp_path / "o.csv", "gb18030")
