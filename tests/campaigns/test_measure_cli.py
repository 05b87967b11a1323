"""`winback measure` on real files: CSV (UTF-8 and GBK), XLSX, Parquet; text labels with spaces and Chinese."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats as sps
from typer.testing import CliRunner

from winback.cli.main import app

runner = CliRunner()

ARMS = ["对照 组"] * 6 + ["offer A"] * 5 + ["满减 B 券"] * 5
REVENUE = [0, 0, 30, 0, 12.5, 0, 88, 0, 40, 0, 120, 0, 0, 55, 10, 0]
BOUGHT = [1 if r > 0 else 0 for r in REVENUE]


def _rows() -> list[list[object]]:
    return [[f"M{i:03d}", a, r, b] for i, (a, r, b) in enumerate(zip(ARMS, REVENUE, BOUGHT, strict=True))]


def _csv(path: Path, encoding: str) -> Path:
    lines = ["会员编号,分组,消费金额,是否购买"] + [",".join(str(v) for v in r) for r in _rows()]
    path.write_bytes("\n".join(lines).encode(encoding))
    return path


def _run(*args: str) -> dict:
    res = runner.invoke(app, ["measure", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _check(out: dict) -> None:
    rev = out["outcomes"]["消费金额"]
    assert rev["control"] == {"n": 6, "mean": pytest.approx(np.mean(REVENUE[:6]))}
    a = rev["arms"]["offer A"]
    ref = sps.ttest_ind(REVENUE[6:11], REVENUE[:6], equal_var=False)
    assert a["n"] == 5
    assert a["diff"] == pytest.approx(np.mean(REVENUE[6:11]) - np.mean(REVENUE[:6]))
    assert a["statistic"] == pytest.approx(ref.statistic)
    assert a["p_value"] == pytest.approx(ref.pvalue)
    assert a["ci_low"] < a["diff"] < a["ci_high"]
    assert set(rev["arms"]) == {"offer A", "满减 B 券"}
    assert set(out["outcomes"]["是否购买"]["arms"]["满减 B 券"]) >= {
        "n",
        "mean",
        "diff",
        "ci_low",
        "ci_high",
        "statistic",
        "p_value",
    }


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_measure_csv_in_utf8_and_gbk(tmp_path: Path, encoding: str) -> None:
    f = _csv(tmp_path / f"res_{encoding}.csv", encoding)
    out = _run(str(f), "--arm", "分组", "--control", "对照 组", "--outcome", "消费金额", "--outcome", "是否购买")
    _check(out)
    assert out["encoding"] == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030"}[encoding]
    assert out["outcomes"]["是否购买"]["binary"] is True


def test_measure_xlsx_and_parquet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["会员编号", "分组", "消费金额", "是否购买"])
    for r in _rows():
        ws.append(r)
    wb.save(tmp_path / "r.xlsx")
    cols = list(zip(*_rows(), strict=True))
    pq.write_table(
        pa.table({"会员编号": cols[0], "分组": cols[1], "消费金额": [float(v) for v in cols[2]], "是否购买": cols[3]}),
        tmp_path / "r.parquet",
    )
    for name in ("r.xlsx", "r.parquet"):
        _check(
            _run(
                str(tmp_path / name),
                "--arm",
                "分组",
                "--control",
                "对照 组",
                "--outcome",
                "消费金额",
                "--outcome",
                "是否购买",
            )
        )


def test_measure_cost_gives_roi(tmp_path: Path) -> None:
    f = _csv(tmp_path / "r.csv", "utf-8")
    out = _run(str(f), "--arm", "分组", "--control", "对照 组", "--outcome", "消费金额", "--cost-per-contact", "2")
    a = out["outcomes"]["消费金额"]["arms"]["offer A"]
    assert a["cost"] == 10
    assert a["incremental_roi"] == pytest.approx((a["diff"] * 5 - 10) / 10)


def test_measure_errors_are_clear(tmp_path: Path) -> None:
    f = _csv(tmp_path / "r.csv", "utf-8")
    res = runner.invoke(
        app, ["--lang", "en", "measure", str(f), "--arm", "group", "--control", "x", "--outcome", "消费金额"]
    )
    assert res.exit_code == 2 and "no column 'group'" in res.stderr and "分组" in res.stderr
    res = runner.invoke(
        app, ["--lang", "en", "measure", str(f), "--arm", "分组", "--control", "control", "--outcome", "消费金额"]
    )
    assert res.exit_code == 2 and "control label 'control' not found" in res.stderr and "offer A" in res.stderr
    res = runner.invoke(
        app,
        ["--lang", "en", "measure", str(f), "--arm", "分组", "--control", "对照 组", "--outcome", "会员编号", "--json"],
    )
    err = json.loads(res.stdout)["error"]
    assert res.exit_code == 2 and "row 1 (file line 2)" in err["message"] and "M000" in err["message"]
    assert "Traceback" not in res.output
    res = runner.invoke(
        app,
        [
            "--lang",
            "en",
            "measure",
            str(f),
            "--arm",
            "分组",
            "--control",
            "对照 组",
            "--outcome",
            "消费金额",
            "--encoding",
            "latin9",
        ],
    )
    assert res.exit_code == 2 and "unknown encoding" in res.stderr
    res = runner.invoke(
        app,
        ["--lang", "en", "measure", str(tmp_path / "missing.csv"), "--arm", "a", "--control", "c", "--outcome", "o"],
    )
    assert res.exit_code == 2 and "no such file" in res.stderr
