"""Temporary files of the GBK transcode (issue 15, item 3): a private 0700 directory, 0600 files made with
O_EXCL, removed in `finally` (also when the transcode fails), and those of a killed run removed at the next start.

The finding: a predictable path in /tmp (`<stem>.<pid>.utf8.csv`), following symlinks, world-readable, and left
behind with the whole member list in plain text when a transcode failed or the import was killed.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from ingest_util import write_csv

from winback.common import encoding
from winback.errors import InputError
from winback.ingest import import_file

HEADER = ["会员卡号", "姓名", "手机号码"]


@pytest.fixture
def tmpdir_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _everything_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_failed_transcode_leaves_no_plain_text_copy(db, tmp_path: Path, tmpdir_root: Path, english: None) -> None:
    f = tmp_path / "members_gbk.csv"
    good = "会员卡号,姓名,手机号码\n" + "".join(f"M{i},张三{i},138{i:08d}\n" for i in range(5000))
    f.write_bytes(good.encode("gbk") + b"\xff\xff\xff\n")  # invalid GB18030 at the end: the transcode fails late
    with pytest.raises(InputError, match="is not valid gb18030"):
        import_file(db, "members", f, encoding="gb18030")
    assert _everything_under(tmpdir_root) == []  # nothing left, and no copy anywhere in the temp directory


def test_a_gbk_import_uses_a_private_directory_and_removes_its_copy(
    con, db, tmp_path: Path, tmpdir_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Path, int, int]] = []
    real = encoding.transcode_to_utf8

    def spy(src: Path, dst: Path, enc: str, on_bytes=None) -> None:  # type: ignore[no-untyped-def]
        seen.append((dst, stat.S_IMODE(dst.stat().st_mode), stat.S_IMODE(dst.parent.stat().st_mode)))
        real(src, dst, enc, on_bytes)

    from winback.ingest import readers

    monkeypatch.setattr(readers, "transcode_to_utf8", spy)
    f = write_csv(tmp_path / "m.csv", HEADER, [["M1", "张三", "13812345678"]], encoding="gbk")
    old_umask = os.umask(0)  # a careless umask: the files must still be private
    try:
        r = import_file(db, "members", f)
    finally:
        os.umask(old_umask)
    assert r.rows_loaded == 1 and r.encoding == "gb18030"
    [(path, file_mode, dir_mode)] = seen
    assert (file_mode, dir_mode) == (0o600, 0o700)
    assert path.parent == tmpdir_root / f"winback-{os.getuid()}"
    assert str(os.getpid()) in path.name and "m" not in path.name.split("-")[0]
    assert not path.exists()  # removed as soon as DuckDB had read it


def test_new_temp_files_never_reuse_a_planted_file(tmpdir_root: Path) -> None:
    d = encoding.private_temp_dir()
    names = {encoding.new_temp_file(".utf8.csv", d).name for _ in range(50)}
    assert len(names) == 50  # random names: not predictable
    victim = tmpdir_root / "victim"
    victim.write_text("keep me")
    planted = d / "planted.utf8.csv"
    planted.symlink_to(victim)
    fd_flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    with pytest.raises(FileExistsError):  # what new_temp_file does when a name is taken: it never follows it
        os.open(planted, fd_flags, 0o600)
    assert victim.read_text() == "keep me"


def test_an_insecure_or_foreign_directory_is_not_used(tmpdir_root: Path) -> None:
    base = tmpdir_root / f"winback-{os.getuid()}"
    base.mkdir()
    base.chmod(0o777)  # planted, open to everyone
    d = encoding.private_temp_dir()
    assert d != base and stat.S_IMODE(d.stat().st_mode) == 0o700
    base.chmod(0o700)
    base.rmdir()
    elsewhere = tmpdir_root / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    base.symlink_to(elsewhere)  # a link to somewhere else
    assert encoding.private_temp_dir() != base


def test_stale_copies_of_a_killed_run_are_removed_at_the_next_start(db, tmp_path: Path, tmpdir_root: Path) -> None:
    d = encoding.private_temp_dir()
    dead = d / "999999999-0123456789abcdef.utf8.csv"  # no such process
    dead.write_text("M1,张三,13812345678\n")
    mine = d / f"{os.getpid()}-fedcba9876543210.utf8.csv"  # this process, still running: kept
    mine.write_text("x")
    old = d / f"{os.getppid()}-aaaaaaaaaaaaaaaa.utf8.csv"  # a live process, but older than a day
    old.write_text("y")
    os.utime(old, (0, 0))
    f = write_csv(tmp_path / "m.csv", HEADER, [["M1", "张三", "13812345678"]])
    import_file(db, "members", f)
    assert not dead.exists() and not old.exists() and mine.exists()
