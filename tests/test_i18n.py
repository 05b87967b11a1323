"""The message catalogue is complete and consistent, and user-facing strings go through it.

.venv/bin/python tests/test_i18n.py --missing        list msgids without a Chinese translation, by room
.venv/bin/python tests/test_i18n.py --write          append them to their room's .po (msgstr to fill in)
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from winback import i18n

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "winback"
CALLS = {"_", "N_", "t"}
ERRORS = {
    "WinbackError",
    "InputError",
    "ConfigError",
    "NotFoundError",
    "WarehouseLockedError",
    "ModelError",
    "EngineError",
}
# Rooms whose raise sites still build messages from bare literals. Empty it room by room; it must end empty.
UNCONVERTED_ROOMS: set[str] = set()
PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)[^{}]*\}")


def room_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def sources() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def msgids() -> dict[str, list[tuple[str, str]]]:
    """msgid -> [(room, "file:line")] for every _()/N_()/t() call with a literal first argument."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            a.asname or a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module == "winback.i18n"
            for a in n.names
            if a.name in CALLS
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in names
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found[node.args[0].value].append((room_of(path), where))
            if room_of(path) == "cli":  # command docstrings and help= texts are msgids too (cli/localize.py)
                for text, line in _cli_help_texts(node):
                    found[text].append(("cli", f"{path.relative_to(ROOT)}:{line}"))
    return found


def _cli_help_texts(node: ast.AST) -> list[tuple[str, int]]:
    out = []
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg in ("help", "short_help") and isinstance(kw.value, ast.Constant) and kw.value.value:
                out.append((kw.value.value, node.lineno))
    if isinstance(node, ast.FunctionDef) and any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ("command", "callback")
        for d in node.decorator_list
    ):
        doc = ast.get_docstring(node)
        if doc:
            out.append((doc, node.lineno))
    return out


def test_every_msgid_has_a_chinese_translation() -> None:
    cat = i18n.catalogue()
    missing = sorted(f"{refs[0][1]}: {m!r}" for m, refs in msgids().items() if m not in cat)
    assert not missing, "untranslated (run tests/test_i18n.py --write, then fill in msgstr):\n" + "\n".join(missing)


def test_placeholders_agree() -> None:
    bad = []
    for msgid, msgstr in i18n.catalogue().items():
        if set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(msgstr)):
            bad.append(f"{msgid!r} -> {msgstr!r}")
    assert not bad, "placeholders differ between msgid and msgstr:\n" + "\n".join(bad)


def test_one_translation_per_msgid_across_rooms() -> None:
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in sorted(i18n.CATALOGUE_DIR.glob("*.po")):
        for msgid, msgstr in i18n.read_po(path).items():
            if msgstr and msgid in seen and seen[msgid][1] != msgstr:
                clashes.append(f"{msgid!r}: {seen[msgid][0]} says {seen[msgid][1]!r}, {path.name} says {msgstr!r}")
            seen.setdefault(msgid, (path.name, msgstr))
    assert not clashes, "\n".join(clashes)


def test_reader_agrees_with_babel() -> None:
    from babel.messages.pofile import read_po

    for path in sorted(i18n.CATALOGUE_DIR.glob("*.po")):
        with path.open("rb") as f:
            ref = {m.id: m.string for m in read_po(f) if m.id and isinstance(m.id, str) and not m.fuzzy}
        assert i18n.read_po(path) == ref, path.name


def _literal_message(node: ast.Call) -> bool:
    first = node.args[0] if node.args else None
    return isinstance(first, (ast.Constant, ast.JoinedStr)) and not (
        isinstance(first, ast.Constant) and not isinstance(first.value, str)
    )


@pytest.mark.parametrize("room", sorted({room_of(p) for p in sources()} - UNCONVERTED_ROOMS))
def test_errors_are_built_from_the_catalogue(room: str) -> None:
    """A converted room raises no WinbackError whose message is a bare literal or f-string (use _())."""
    bad = []
    for path in sources():
        if room_of(path) != room:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ERRORS
                and _literal_message(node)
            ):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, "error messages not from the catalogue:\n" + "\n".join(bad)


def test_t_renders_both_languages() -> None:
    assert i18n.t("members", "en") == "members"
    with i18n.using("en"):
        assert i18n._("{n} rows", n=3) == "3 rows"


def _write_missing() -> int:
    cat = i18n.catalogue()
    by_room: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for msgid, refs in sorted(msgids().items()):
        if msgid not in cat:
            by_room[refs[0][0]].append((msgid, [w for _, w in refs]))
    for room, items in sorted(by_room.items()):
        path = i18n.CATALOGUE_DIR / f"{room}.po"
        text = path.read_text(encoding="utf-8") if path.exists() else PO_HEADER
        existing = i18n.read_po(path) if path.exists() else {}
        for msgid, where in items:
            if msgid in existing:
                continue
            text += "\n" + "".join(f"#: {w}\n" for w in where[:3]) + f'msgid {_quote(msgid)}\nmsgstr ""\n'
        path.write_text(text, encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {len(items)} to translate")
    return 0


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


PO_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: zh_CN\\n"\n'


if __name__ == "__main__":
    if "--write" in sys.argv:
        sys.exit(_write_missing())
    cat = i18n.catalogue()
    for msgid, refs in sorted(msgids().items(), key=lambda kv: kv[1][0]):
        if msgid not in cat:
            print(f"{refs[0][1]}\t{msgid!r}")
