"""`winback users …` through the CLI (passwords on stdin, --json shapes, the audit log) and `winback serve` as a
real process: it prints its URL once listening (the readiness signal), answers the API, and holds the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from winback.cli.main import app
from winback.config import CATALOGUE


def _env(**values: str) -> dict[str, str | None]:
    return {**{s.env: None for s in CATALOGUE}, **values}


def run(db: Path, *args: str, stdin: str | None = None) -> tuple[int, dict]:
    res = CliRunner().invoke(app, ["--db", str(db), *args, "--json"], input=stdin, env=_env())
    return res.exit_code, json.loads(res.stdout)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "wb.duckdb"
    assert CliRunner().invoke(app, ["--db", str(path), "init", "--json"], env=_env()).exit_code == 0
    return path


def test_users_add_list_disable_reset(db: Path) -> None:
    code, out = run(db, "users", "add", "li", "--role", "store_manager", "--store", "S01", "--store", "S02",
                    "--password-stdin", stdin="manager-pass-1\n")  # fmt: skip
    assert code == 0 and out["user"] == {**out["user"], "username": "li", "role": "store_manager",
                                         "stores": ["S01", "S02"], "disabled_at": None}  # fmt: skip
    code, out = run(db, "users", "add", "li", "--role", "analyst", "--password-stdin", stdin="another-pass-1\n")
    assert code == 2 and out["error"]["type"] == "InputError" and "li" in out["error"]["message"]
    code, out = run(db, "users", "add", "wang", "--role", "guide", "--password-stdin", stdin="guide-pass-1\n")
    assert code == 2 and "--guide" in out["error"]["message"]
    code, out = run(db, "users", "add", "x", "--role", "boss", "--password-stdin", stdin="long-enough-1\n")
    assert code == 2 and "boss" in out["error"]["message"]
    code, out = run(db, "users", "add", "y", "--role", "analyst", "--password-stdin", stdin="short\n")
    assert code == 2 and out["error"]["type"] == "InputError"
    assert [u["username"] for u in run(db, "users", "list")[1]["users"]] == ["li"]
    code, out = run(db, "users", "disable", "li")
    assert code == 0 and out["user"]["disabled_at"]
    code, out = run(db, "users", "reset", "li", "--password-stdin", stdin="manager-pass-2\n")
    assert code == 0 and out["user"]["disabled_at"] is None
    code, out = run(db, "users", "disable", "nobody")
    assert code == 2 and out["error"]["type"] == "NotFoundError"
    actions = [e["action"] for e in run(db, "users", "audit")[1]["entries"]]
    assert actions == ["user_reset", "user_disable", "user_add"]
    with __import__("duckdb").connect(str(db), read_only=True) as con:
        stored = con.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "manager-pass" not in stored


def test_serve_runs_holds_the_file_and_answers(db: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINBACK_")} | {"WINBACK_LOCK_WAIT": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "winback", "--db", str(db), "serve", "--port", "0", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the readiness signal: printed once the socket listens
        assert line, proc.stderr.read() if proc.stderr else ""
        url = json.loads(line)["url"]
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/api/csrf", timeout=30).status_code == 200
        body = httpx.get(url + "/api/overview", timeout=30).json()
        assert body["error"]["type"] == "Unauthenticated"
        res = CliRunner().invoke(app, ["--db", str(db), "info", "--json"], env=_env(WINBACK_LOCK_WAIT="0"))
        assert res.exit_code == 3, res.stdout  # the server holds the file
    finally:
        proc.terminate()
        proc.wait(30)
