"""`winback uplift fit --file` on any one-row-per-member experiment (CSV, XLSX, Parquet; text arm labels), with
the column checks and messages of `winback measure`; `uplift report|list|score`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from winback.cli.main import app

runner = CliRunner()
N = 2400


def _experiment(seed: int = 3) -> dict[str, list[Any]]:
    rng = np.random.default_rng(seed)
    loyal = rng.random(N)
    aov = rng.gamma(3, 100, N)
    arm = np.where(rng.random(N) < 0.5, "短信券", "对照组")
    tau = 0.4 * (1 - loyal) ** 2 * np.clip(aov / 300, 0, 3)
    bought = rng.random(N) < np.minimum(0.05 + 0.3 * loyal + (arm == "短信券") * tau, 0.95)
    return {
        "会员编号": [f"M{i:05d}" for i in range(N)],
        "组别": arm.tolist(),
        "忠诚度": np.round(loyal, 4).tolist(),
        "客单价": np.round(aov, 2).tolist(),
        "等级": rng.choice(["金卡", "银卡", "普通"], N).tolist(),
        "是否购买": bought.astype(int).tolist(),
    }


def _write(data: dict[str, list[Any]], path: Path) -> Path:
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8-sig") as f:
            w = csv.writer(f)
            w.writerow(list(data))
            w.writerows(zip(*data.values(), strict=True))
    elif path.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(list(data))
        for row in zip(*data.values(), strict=True):
            ws.append(list(row))
        wb.save(path)
    else:
        pq.write_table(pa.table(data), path)
    return path


def _run(db: Path, *args: str, lang: str = "en") -> tuple[int, dict[str, Any]]:
    res = runner.invoke(app, ["--db", str(db), "--lang", lang, *args, "--json"], env={"WINBACK_NOW": "2026-12-01"})
    return res.exit_code, json.loads(res.stdout)


FIT = ["uplift", "fit", "--id", "会员编号", "--arm", "组别", "--control", "对照组", "--outcome", "是否购买"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_fit_from_any_file_then_report_list_and_score(tmp_path: Path, suffix: str) -> None:
    path = _write(_experiment(), tmp_path / f"experiment{suffix}")
    db = tmp_path / "wb.duckdb"
    code, fit = _run(db, *FIT, "--file", str(path), "--learner", "t")
    assert code == 0, fit
    assert fit["model_id"] == "U0001" and fit["arms"] == ["短信券"] and fit["control"] == "对照组"
    assert fit["outcome_kind"] == "binary" and set(fit["features"]) == {"忠诚度", "客单价", "等级"}
    assert fit["rows_train"] + fit["rows_valid"] == N and fit["source"]["file"] == str(path)
    v = fit["validation"]["短信券"]
    assert v["qini_coefficient"] > 0.1 and len(v["deciles"]) == 10
    assert v["deciles"][0]["predicted"] > v["deciles"][-1]["predicted"]
    code, rep = _run(db, "uplift", "report", "U0001")
    assert code == 0 and rep["validation"] == fit["validation"]
    code, listed = _run(db, "uplift", "list")
    assert code == 0 and [m["model_id"] for m in listed["models"]] == ["U0001"]
    out = tmp_path / "scores.csv"
    code, scored = _run(db, "uplift", "score", "U0001", str(path), "--out", str(out), "--id", "会员编号")
    assert code == 0 and scored["rows"] == N
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["会员编号", "uplift_短信券"] and len(rows) == N + 1
    code, err = _run(db, "uplift", "report", "U0009", lang="zh")
    assert code == 2 and "没有增量模型 U0009" in err["error"]["message"] and "U0001" in err["error"]["hint"]
    code, err = _run(db, "uplift", "fit")
    assert code == 2 and "no finished campaign" in err["error"]["message"]
    text = runner.invoke(app, ["--db", str(db), "--lang", "zh", "uplift", "report", "U0001"])
    assert text.exit_code == 0 and "Qini 系数" in text.stdout and "十分位" in text.stdout


def test_column_checks_and_messages_are_those_of_measure(tmp_path: Path) -> None:
    data = _experiment()
    path = _write(data, tmp_path / "experiment.csv")
    db = tmp_path / "wb.duckdb"
    measure = ["measure", str(path), "--arm", "组别", "--control", "对照组", "--outcome", "是否购买"]
    for bad in (["--arm", "组"], ["--control", "控制组"], ["--outcome", "客户"]):
        mine = _run(db, *FIT, "--file", str(path), *bad)
        theirs = _run(db, *measure, *bad)
        assert mine[0] == theirs[0] == 2
        assert mine[1]["error"] == theirs[1]["error"], bad
    data["是否购买"][7] = "不知道"
    text_outcome = _write(data, tmp_path / "bad.csv")
    mine = _run(db, *FIT, "--file", str(text_outcome))
    theirs = _run(db, "measure", str(text_outcome), "--arm", "组别", "--control", "对照组", "--outcome", "是否购买")
    assert mine[1]["error"] == theirs[1]["error"] and "row 8" in mine[1]["error"]["message"]
    code, err = _run(db, *FIT, "--file", str(path), "--treated", "电话")
    assert code == 2 and "'电话'" in err["error"]["message"] and "短信券" in err["error"]["hint"]
