"""Text encodings of exported files: detect UTF-8 (with or without BOM) or GBK/GB18030, and transcode.

DuckDB's CSV reader only decodes UTF-8, so a GBK file is transcoded in fixed-size chunks (bounded memory)
to a temporary UTF-8 file that DuckDB then reads. Temporary files (issue 15, item 3) live in a private directory
(`$TMPDIR/winback-<uid>`, 0700, refused if it is a link, someone else's or open to others: a fresh `mkdtemp` one is
used then), are created 0600 with O_EXCL (never through a planted file or link), are removed in `finally` by their
caller, and those of a killed run (its process gone, or older than a day) are removed at the next import.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import os
import secrets
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from winback.errors import InputError
from winback.i18n import _

CHUNK = 1 << 20  # 1 MiB
ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gbk", "gb18030")
_SAMPLE_CHUNKS = 8


def _sample_offsets(size: int) -> list[int]:
    if size <= CHUNK * _SAMPLE_CHUNKS:
        return list(range(0, size, CHUNK)) or [0]
    step = size // _SAMPLE_CHUNKS
    return [i * step for i in range(_SAMPLE_CHUNKS)]


def _decodes_as_utf8(path: Path) -> bool:
    """True when sampled chunks across the file (the whole file if small) are valid UTF-8."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        for off in _sample_offsets(size):
            fh.seek(off)
            data = fh.read(CHUNK + 4)
            if off:  # skip continuation bytes of a character cut by the seek
                i = 0
                while i < min(4, len(data)) and 0x80 <= data[i] < 0xC0:
                    i += 1
                data = data[i:]
            try:
                codecs.getincrementaldecoder("utf-8")().decode(data, final=len(data) <= CHUNK)
            except UnicodeDecodeError:
                return False
    return True


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' (BOM), 'utf-8', or 'gb18030' (GBK is a subset of GB18030)."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(
            _("{file} is UTF-16 encoded, which winback does not read", file=path.name),
            hint=_("Save the export as UTF-8 or GBK CSV (in Excel: 'CSV UTF-8'), or as XLSX, and import that."),
        )
    if _decodes_as_utf8(path):
        return "utf-8"
    return "gb18030"


def resolve_encoding(path: Path, requested: str) -> str:
    req = (requested or "auto").strip().lower().replace("_", "-")
    if req in ("utf8",):
        req = "utf-8"
    if req not in ENCODINGS:
        raise InputError(
            _('unknown encoding "{requested}"', requested=requested),
            hint=_(
                "Use one of: {encodings} (auto detects UTF-8, UTF-8 with BOM and GBK/GB18030).",
                encodings=", ".join(ENCODINGS),
            ),
        )
    if req == "auto":
        return detect_encoding(path)
    if req == "utf-8":
        with path.open("rb") as fh:
            if fh.read(3) == codecs.BOM_UTF8:
                return "utf-8-sig"
    return req


def transcode_to_utf8(src: Path, dst: Path, encoding: str, on_bytes: Callable[[int], None] | None = None) -> None:
    """Stream `src` (in `encoding`) into `dst` as UTF-8, one chunk at a time."""
    codec = "gb18030" if encoding == "gbk" else encoding
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    done = 0
    try:
        # never through a link; a new file is private (0600) whatever the umask lets through
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with src.open("rb") as fin, os.fdopen(fd, "wb") as fout:
            while True:
                data = fin.read(CHUNK)
                if not data:
                    fout.write(decoder.decode(b"", final=True).encode("utf-8"))
                    break
                fout.write(decoder.decode(data).encode("utf-8"))
                done += len(data)
                if on_bytes:
                    on_bytes(done)
    except UnicodeDecodeError as exc:
        raise InputError(
            _(
                "{name} is not valid {encoding} near byte {done:,}",
                name=src.name,
                encoding=encoding,
                done=done + exc.start,
            ),
            hint=_("Give the right --encoding (utf-8, gbk or gb18030), or re-save the export as UTF-8."),
        ) from exc


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK * 4):
            h.update(chunk)
    return h.hexdigest()


STALE_SECONDS = 24 * 3600


def private_temp_dir() -> Path:
    """`$TMPDIR/winback-<uid>` (created 0700), or a fresh private `mkdtemp` directory when that path is a link,
    belongs to someone else or is open to others."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    base = Path(tempfile.gettempdir()) / f"winback-{uid}"
    with contextlib.suppress(FileExistsError):
        os.mkdir(base, 0o700)
    st = os.lstat(base)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o077:
        return Path(tempfile.mkdtemp(prefix="winback-"))
    return base


def new_temp_file(suffix: str, directory: Path | None = None) -> Path:
    """A new empty file `<pid>-<random><suffix>` in the private directory, created 0600 with O_EXCL (a file or link
    already there is never used). The caller removes it (in `finally`)."""
    d = directory or private_temp_dir()
    path = d / f"{os.getpid()}-{secrets.token_hex(8)}{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.close(fd)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(directory: Path | None = None, now: float | None = None) -> int:
    """Remove the temporary files of runs that are gone (their process no longer exists, or older than a day).
    Returns how many were removed."""
    d = directory or Path(tempfile.gettempdir()) / f"winback-{os.getuid() if hasattr(os, 'getuid') else 0}"
    if not d.is_dir() or d.is_symlink():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for p in d.iterdir():
        pid_text = p.name.split("-", 1)[0]
        if not pid_text.isdigit() or not p.is_file():
            continue
        pid = int(pid_text)
        old = now - p.lstat().st_mtime > STALE_SECONDS
        if (pid != os.getpid() and not _alive(pid)) or old:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed += 1
    return removed
