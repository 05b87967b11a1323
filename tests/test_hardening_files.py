"""Issue 15, "the warehouse, exports and temp files are created world-readable": every file winback writes that
holds members is private to its user (0600, directories 0700), whatever umask the process started with."""

from __future__ import annotations

import csv
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

PY = sys.executable


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def careless_umask() -> Iterator[None]:
    old = os.umask(0o000)  # the most careless umask: the files must still be private
    yield
    os.umask(old)


def test_warehouse_and_its_wal_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """A new warehouse, its write-ahead log (recreated after every checkpoint) and DuckDB's spill directory are
    0600/0700 although the process runs with umask 000. In a subprocess: the umask is process-wide."""
    db = tmp_path / "w.duckdb"
    script = textwrap.dedent(f"""
        import os, stat
        os.umask(0)
        from winback.warehouse.connection import connect
        con = connect({str(db)!r})
        con.execute("CREATE TABLE t AS SELECT range AS x FROM range(10)")
        con.execute("INSERT INTO t VALUES (11)")
        print("wal", oct(stat.S_IMODE(os.stat({str(db)!r} + ".wal").st_mode)))
        con.execute("CHECKPOINT")
        con.execute("INSERT INTO t VALUES (12)")   # a new WAL after the checkpoint
        print("wal2", oct(stat.S_IMODE(os.stat({str(db)!r} + ".wal").st_mode)))
        print("db", oct(stat.S_IMODE(os.stat({str(db)!r}).st_mode)))
        con.execute("SET memory_limit='64MB'; SET threads=1; SET preserve_insertion_order=false")
        con.execute("SET temp_directory='{tmp_path / "spill"}'")
        con.execute("SELECT x, h FROM (SELECT range AS x, md5(range::VARCHAR) AS h FROM range(3000000)) "
                    "ORDER BY h OFFSET 2999999").fetchall()   # sorts beyond 64 MB: spills
        spill = {str(tmp_path / "spill")!r}
        print("spill", oct(stat.S_IMODE(os.stat(spill).st_mode)) if os.path.exists(spill) else "none")
        con.close()
    """)
    done = subprocess.run([PY, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = done.stdout.split()
    found = dict(zip(out[::2], out[1::2], strict=True))
    assert found["db"] == "0o600"
    assert found["wal"] == "0o600" and found["wal2"] == "0o600"
    assert found["spill"] == "0o700"


def test_conflicts_export_is_private(tmp_path: Path, careless_umask: None) -> None:
    from winback.engine.duckdb_engine import DuckDBEngine
    from winback.ingest.rejects import export_conflicts
    from winback.warehouse.connection import connect

    db = DuckDBEngine(connect(tmp_path / "w.duckdb"))
    for ext in (".csv", ".parquet", ".jsonl"):
        out = tmp_path / f"conflicts{ext}"
        export_conflicts(db, out)
        assert _mode(out) == 0o600, ext


def test_ai_call_list_is_private(tmp_path: Path, careless_umask: None) -> None:
    """The AI-call channel's call list carries full phone numbers: 0600 like every other export."""
    from winback.outreach.channels.ai_call import AiCallChannel
    from winback.outreach.config import ChannelConfig
    from winback.outreach.ledger import LedgerRow

    cfg = ChannelConfig("ai_call", "ai_call", {"export_dir": str(tmp_path / "out"), "results_dir": str(tmp_path)})
    row = LedgerRow(key="k1", channel="ai_call", campaign_id="C1", member_id="M1", to="13812345678", text="您好",
                    attempt=1, batch_id="b1")  # fmt: skip
    AiCallChannel(cfg).send([row])
    files = list((tmp_path / "out").iterdir())
    assert [f.name for f in files] == ["calls-b1.csv"]
    assert _mode(files[0]) == 0o600
    with files[0].open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f))[1][1] == "13812345678"
