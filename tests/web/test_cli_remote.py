"""The CLI through a running server (cli/remote.py, web/cli_bridge.py), with real processes: `winback serve` on
loopback holds a copy of the demo brand; `winback …` commands run as separate processes print exactly what they
print without a server (--json byte for byte, errors and exit codes included), a batch command runs as the
server's writer job, the announcement file is private and goes away with the server, and a stale one is ignored."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

#: read-only commands whose --json does not depend on the clock of the run
READS = [
    ["overview", "--json"], ["segments", "--json"], ["members", "--limit", "5", "--json"], ["quality", "--json"],
    ["explain", "NO-SUCH-MEMBER", "--json"], ["members", "--scheme", "nope", "--json"],
]  # fmt: skip
Served = tuple[Path, str, dict[str, Any]]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINBACK_")}
    return env | {"WINBACK_LOCK_WAIT": "0", "WINBACK_NOW": "2026-11-21T10:00:00"}


def winback(db: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "winback", "--db", str(db), *args], capture_output=True,
                          text=True, env=_env(), cwd=cwd, timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def served(demo_brand: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """(the warehouse, the server's url, what each READS command printed before the server started)."""
    db = tmp_path_factory.mktemp("remote") / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    before = {" ".join(a): winback(db, *a) for a in READS}
    proc = subprocess.Popen([sys.executable, "-m", "winback", "--db", str(db), "serve", "--port", "0", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once the socket listens and the server file is written
        assert line, proc.stderr.read() if proc.stderr else ""
        yield db, json.loads(line)["url"], before
    finally:
        proc.terminate()
        proc.wait(60)
    assert not Path(f"{db}.server").exists(), "the server file outlived the server"


def test_the_server_file_is_private_and_names_the_server(served: Served) -> None:
    db, url, _ = served
    path = Path(f"{db}.server")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    found = json.loads(path.read_text())
    assert found["url"] == url and len(found["token"]) >= 32 and found["pid"] != os.getpid()
    r = httpx.post(f"{url}/api/cli", json={"argv": ["info"], "cwd": "/"}, timeout=30)  # no token
    assert r.status_code == 401 and r.json()["error"]["type"] == "Unauthenticated"
    r = httpx.post(f"{url}/api/cli", json={"argv": ["info"], "cwd": "/"}, timeout=30,
                   headers={"Authorization": "Bearer " + "x" * len(found["token"])})  # fmt: skip
    assert r.status_code == 401
    assert "/api/cli" not in httpx.get(f"{url}/openapi.json", timeout=30).json()["paths"]


@pytest.mark.parametrize("args", READS, ids=[" ".join(a) for a in READS])
def test_a_command_prints_the_same_through_the_server(served: Served, args: list[str]) -> None:
    db, _, before = served
    alone, through = before[" ".join(args)], winback(db, *args)
    assert (through.returncode, through.stdout) == (alone.returncode, alone.stdout), through.stderr
    assert json.loads(through.stdout)  # one JSON object, as without a server


def test_a_batch_command_runs_as_the_servers_writer_job(served: Served, tmp_path: Path) -> None:
    db, _, _ = served
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,member_id,store_id,ordered_at,amount\nREMOTE-1,NOBODY,S01,2026-11-20 10:00,88\n")
    done = winback(db, "import", "orders", "orders.csv", "--json", cwd=tmp_path)  # a path relative to the client
    out = json.loads(done.stdout)
    assert done.returncode in (0, 2), done.stderr
    assert "error" in out or out.get("kind") == "orders", out
    refreshed = winback(db, "refresh", "--json")
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    out = json.loads(refreshed.stdout)
    assert out["as_of"] and out["pages"]["as_of"] == out["as_of"]  # run in the server: its pages summed too


def test_a_stale_server_file_is_ignored(tmp_path: Path) -> None:
    db = tmp_path / "wb.duckdb"
    assert winback(db, "init", "--json").returncode == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    Path(f"{db}.server").write_text(json.dumps({"url": "http://127.0.0.1:9", "token": "t" * 43,
                                                "pid": int(dead.stdout)}))  # fmt: skip
    info = winback(db, "info", "--json")
    assert info.returncode == 0 and "tables" in json.loads(info.stdout), info.stderr
