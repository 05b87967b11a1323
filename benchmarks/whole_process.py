"""One command timed as a whole process, as a user runs it: wall seconds from start to exit, and the child's own
CPU seconds and peak resident memory from wait4 (not the bench process's). Used by export_bench.py and
import_bench.py."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Timed:
    wall: float
    cpu: float
    rss_mib: float
    stdout: str


def run(cmd: Sequence[str], env: Mapping[str, str]) -> Timed:
    """Run `cmd`; on a non-zero exit stop the benchmark with the command, its exit code and its output."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        child = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=dict(env))
        _, status, use = os.wait4(child.pid, 0)
        wall = time.perf_counter() - t
        code = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        text = out.read()
        if code:
            raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{text}{err.read()}")
    return Timed(wall, use.ru_utime + use.ru_stime, use.ru_maxrss / 1024, text)
