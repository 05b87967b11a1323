"""Where a whole `winback … refresh` process spends its time (issue 14: the daily refresh as a user runs it).

    .venv/bin/python benchmarks/refresh_process.py --db DB refresh --as-of 2025-11-02 --json
    .venv/bin/python benchmarks/refresh_daily.py --data DIR --work DIR --profile   # its `winback` phase uses this

Runs the `winback` command given after the options as its own child process (the same `main()` the `winback`
script calls, from this interpreter's venv), with marks at the seams of the process: the interpreter's start (the
child's first line), the CLI's imports, building the click command tree and translating its help, the callback
(settings, the app object), opening the warehouse file, the migrations check, the service's checks before the
refresh, each step of `refresh()` (its progress messages, the COMMIT timed apart), the JSON output, closing the
warehouse (DuckDB checkpoints the WAL when the last connection closes) and the interpreter's exit. The parent
times wall from before its fork to the child's exit and reads the child's CPU (rusage); every mark is wall and
CPU of the child. The marks patch functions of the child only (nothing the refresh computes changes), so the
total is the whole process's time give or take a few milliseconds; the phases' sum is the total.

winback's modules are compiled to bytecode first, as an installed package has them (`compile_bytecode`).
The warehouse is written: run it on a copy (`refresh_daily.py` copies the warehouse after the day's import).
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MARKS: list[tuple[str, float, float]] = []  # (phase that just ended, wall clock, process CPU)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _mark(name: str) -> None:
    MARKS.append((name, time.time(), _cpu()))


def _wrap(owner: Any, attr: str, before: str | None, after: str) -> None:
    """Mark `before` (when given) when owner.attr is called and `after` when it returns."""
    original = getattr(owner, attr)

    def timed(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            _mark(before)
        try:
            return original(*args, **kwargs)
        finally:
            _mark(after)

    setattr(owner, attr, timed)


def _instrument() -> None:
    """Marks at the seams: command tree, callback, open, migrations, refresh steps, COMMIT, output, close."""
    from winback.cli import lifecycle_cmd
    from winback.cli import main as cli_main
    from winback.engine import base, duckdb_engine
    from winback.lifecycle import refresh as refresh_mod
    from winback.warehouse import connection

    _wrap(cli_main, "command", None, "command modules, command tree, help translated (typer, localize)")
    _wrap(connection, "_open_waiting", "callback, service checks before the warehouse", "open the warehouse file")
    _wrap(connection, "migrate", None, "migrations check")
    _wrap(lifecycle_cmd, "emit", "after refresh(): the service", "JSON output")
    _wrap(duckdb_engine.DuckDBEngine, "close", "after the output", "close the warehouse (checkpoint)")
    guard = base.Engine._guard

    def timed_guard(self: Any, sql: str, run: Any) -> Any:
        if sql.strip().upper() != "COMMIT":
            return guard(self, sql, run)
        _mark(f"refresh: {STEP[0]}")
        try:
            return guard(self, sql, run)
        finally:
            _mark("refresh: COMMIT")
            STEP[0] = "after the COMMIT: temps dropped, run seconds stored"

    base.Engine._guard = timed_guard  # type: ignore[method-assign]
    original = refresh_mod.refresh

    def refresh(*args: Any, progress: Any = None, **kwargs: Any) -> Any:
        _mark("before refresh(): the service, engine")
        STEP[0] = "start"

        def say(msg: str) -> None:
            _mark(f"refresh: {STEP[0]}")
            STEP[0] = msg
            if progress is not None:
                progress(msg)

        try:
            return original(*args, progress=say, **kwargs)
        finally:
            _mark(f"refresh: {STEP[0]} (to the end of refresh())")

    refresh_mod.refresh = refresh  # the service imports it at call time


STEP = ["start"]


def child(argv: list[str]) -> int:
    _mark("interpreter start")
    atexit.register(_write_marks)  # atexit runs before the interpreter's teardown, and with winback's own exit
    from winback.cli.main import main

    _mark("imports (winback.cli.main; before the lazy commands: every command module)")
    _instrument()
    _mark("the marks' patches (importing what the refresh imports later: duckdb, the refresh module)")
    sys.argv = ["winback", *argv]
    try:
        main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def _write_marks() -> None:
    _mark("after close")
    out = os.environ.get("WINBACK_PROCESS_MARKS")
    if out:
        Path(out).write_text(json.dumps(MARKS), encoding="utf-8")


def compile_bytecode() -> None:
    """Compile winback's modules to bytecode (__pycache__), as pip does when it installs the package: a process
    started with PYTHONDONTWRITEBYTECODE (as in this project's sessions) from an editable install otherwise
    compiles every module it imports from source, each time (~0.1-0.16 s for a refresh), which a user's
    installed winback does not."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("winback")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(folder, quiet=1)


def run(argv: list[str], marks_path: Path) -> dict[str, Any]:
    """Run `winback ARGV` in a child with marks; the phases (wall, CPU), the total and the child's stdout."""
    compile_bytecode()
    env = {**os.environ, "WINBACK_PROCESS_MARKS": str(marks_path)}
    child_script = os.environ.get("WINBACK_PROCESS_CHILD") or str(Path(__file__).resolve())  # (experiments)
    cmd = [sys.executable, child_script, "--child", *argv]
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.time()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        ended = time.time()
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if status != 0:
        raise SystemExit(f"winback failed:\n{stderr[-4000:]}")
    marks = json.loads(marks_path.read_text(encoding="utf-8"))
    marks_path.unlink()
    cpu_total = usage.ru_utime + usage.ru_stime
    phases, prev_t, prev_c = [], started, 0.0
    for name, t, c in marks:
        phases.append([name, round(t - prev_t, 3), round(c - prev_c, 3)])
        prev_t, prev_c = t, c
    phases.append(["interpreter exit", round(ended - prev_t, 3), round(cpu_total - prev_c, 3)])
    phases[0][0] = "interpreter start (fork, exec, site, venv)"
    return {"seconds": ended - started, "cpu_seconds": round(cpu_total, 2), "load_avg_1m": round(load, 2),
            "peak_bytes": usage.ru_maxrss * 1024, "phases": phases, "stdout": stdout}  # fmt: skip


def print_phases(res: dict[str, Any], file: Any = sys.stdout) -> None:
    print(f"whole process {res['seconds']:.2f} s wall, {res['cpu_seconds']:.2f} s CPU "
          f"(load {res['load_avg_1m']})", file=file)  # fmt: skip
    for name, wall, cpu in res["phases"]:
        print(f"    {wall:7.3f} s wall {cpu:7.3f} s CPU  {name}", file=file)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        return child(args[1:])
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    res = run(args, Path(f"/tmp/winback-process-marks-{os.getpid()}.json"))
    print_phases(res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
