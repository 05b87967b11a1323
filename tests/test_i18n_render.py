"""Chinese first, checked on what the CLI prints: rendered output scanned against the message catalogue.

On a copy of the demo brand, with `--lang zh` (the default) and `--lang en`: `overview`, `segments`, `quality`,
`scenarios`, `campaign create|launch|report`, every command's `--help`, and a set of user errors (bad option
values, unknown ids, bad files; typer's own usage errors too). zh output must hold no English phrase of a msgid
that has a translation, and no table header or title that is an untranslated msgid; en output no Chinese
fragment of a msgstr. Tables are printed at 80 columns and must not cut a cell ("…").

A failure names the command, the fragment found and the msgid it comes from; where the text is made outside
the cli room (a service's note or error), that room's catalogue is the place to fix it.
"""

from __future__ import annotations

import functools
import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from winback import i18n

LAUNCH = "2026-11-21T09:00:00"  # the day after the demo history's last day
AFTER = "2026-12-06T12:00:00"  # the campaign's 14-day window has ended
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
CJK = re.compile(r"[\u3400-\u9fff]")
BOX_ROW = re.compile(r"^[│┃]")  # a table's header or body line (rich's heavy-head box)


# -- rendering through the localized command tree (what `winback` runs) ------------------------------------------
@pytest.fixture(scope="module")
def cli() -> Iterator[Any]:
    """invoke(lang, *args, env=..., input=...) -> Result, through winback.cli.main.command(lang) at 80 columns."""
    import typer.testing

    from winback.cli import main
    from winback.cli.app import app
    from winback.config import CATALOGUE

    runner = CliRunner()
    original = typer.testing._get_command
    clean = {s.env: None for s in CATALOGUE}

    from winback.cli.localize import localize

    trees: dict[str, Any] = {}

    def tree(lang: str) -> Any:  # one command tree per language, built once (main.command), localized again
        if lang in trees:
            localize(trees[lang], lang)
        else:
            trees[lang] = main.command(lang)
        return trees[lang]

    def invoke(lang: str, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Any:
        typer.testing._get_command = lambda _app: tree(lang)
        try:
            env = {**clean, "COLUMNS": "80", **(env or {})}
            return runner.invoke(app, ["--lang", lang, *args], env=env, input=input, catch_exceptions=False)
        finally:
            typer.testing._get_command = original

    yield invoke
    main.command("en")  # typer's messages back to English for the tests that follow in this process
    i18n.set_lang(i18n.DEFAULT_LANG)


@pytest.fixture(scope="module")
def brand(demo_brand: Any, tmp_path_factory: pytest.TempPathFactory, cli: Any) -> dict[str, str]:
    """A copy of the demo brand with a launched campaign: {"db", "campaign", "dir"}."""
    work = tmp_path_factory.mktemp("render")
    db = str(work / "wb.duckdb")
    shutil.copy(demo_brand.db_path, db)
    created = cli("en", "--db", db, "campaign", "create", "--scenario", "new_store_opening", "--variant",
                  "A:voucher:50:200", "--json", env={"WINBACK_NOW": LAUNCH})  # fmt: skip
    assert created.exit_code == 0, created.output
    cid = json.loads(created.stdout)["campaign"]["campaign_id"]
    launched = cli("en", "--db", db, "campaign", "launch", cid, "--json", env={"WINBACK_NOW": LAUNCH})
    assert launched.exit_code == 0, launched.output
    return {"db": db, "campaign": cid, "dir": str(work)}


# -- what the scans look for --------------------------------------------------------------------------------------
@functools.cache
def _english_phrases() -> dict[str, str]:
    """fragment -> msgid: the literal English pieces (two words or more, 10+ characters) of translated msgids."""
    out: dict[str, str] = {}
    for msgid, msgstr in i18n.catalogue().items():
        if msgstr == msgid:  # the same in both languages (a list of codes such as "auto | utf-8 | gbk")
            continue
        for piece in PLACEHOLDER.split(msgid):
            frag = piece.strip(" .,:;()[]—–-|/`'\"\n\t")
            if len(re.findall(r"[A-Za-z]+", frag)) >= 2 and len(frag) >= 10 and not CJK.search(frag):
                out.setdefault(frag, msgid)
    return out


@functools.cache
def _chinese_pieces() -> dict[str, str]:
    """piece -> msgstr: the literal pieces (between placeholders, two CJK characters or more) of every msgstr."""
    out: dict[str, str] = {}
    for msgstr in i18n.catalogue().values():
        for piece in PLACEHOLDER.split(msgstr):
            piece = piece.strip(" .,:;()[]—–-|/`'\"\n\t，。：；（）、")
            if len(CJK.findall(piece)) >= 2:
                out.setdefault(piece, msgstr)
    return out


def _labels(text: str) -> list[str]:
    """Table headers and titles in rendered output: header cells (between ┏ and ┡) and the lines above a table."""
    found, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("┏"):
            j = i - 1
            while j >= 0 and lines[j].strip() and not BOX_ROW.match(lines[j]) and not lines[j].startswith("└"):
                found.append(lines[j].strip())
                j -= 1
        if line.startswith("┃"):
            found += [c.strip() for c in line.strip("┃").split("┃")]
    return [f for f in found if f]


_SENTENCE = re.compile(r"(?<![\w./=-])(?:[a-z][a-z']+ ){3,}[a-z][a-z']+(?![\w/=-])")


def english_sentences(text: str) -> list[str]:
    """Runs of four or more lowercase English words outside `code`: text that was never put in the catalogue."""
    return _SENTENCE.findall(re.sub(r"`[^`]*`", " ", text))


def untranslated(text: str) -> list[str]:
    """English phrases of translated msgids in `text`, table labels that are translated msgids left English, and
    English sentences that are no msgid at all."""
    cat = i18n.catalogue()
    bad = [f"English text {s!r} (not in the catalogue)" for s in english_sentences(text)]
    for frag, msgid in _english_phrases().items():
        if frag in text and re.search(rf"(?<![\w-]){re.escape(frag)}(?![\w-])", text):
            bad.append(f"{frag!r} (msgid {msgid!r})")
    for label in _labels(text):
        if label in cat and cat[label] != label and len(label) >= 3 and not CJK.search(label):
            bad.append(f"label {label!r}")
    return bad


def chinese_left(text: str) -> list[str]:
    """Pieces of msgstrs in `text`, standing alone (not inside a longer Chinese word: data such as a store's name
    or a scheme's Chinese name may contain a catalogue word)."""
    return [
        f"{piece!r} (msgstr {msgstr!r})"
        for piece, msgstr in _chinese_pieces().items()
        if piece in text and re.search(rf"(?<![\u3400-\u9fff]){re.escape(piece)}(?![\u3400-\u9fff])", text)
    ]


def cut_cells(text: str) -> list[str]:
    """Table lines with an ellipsis: rich cut a cell to fit the width."""
    return [line for line in text.splitlines() if BOX_ROW.match(line) and "…" in line]


# -- the scans ------------------------------------------------------------------------------------------------------
def _screens(brand: dict[str, str]) -> list[tuple[str, list[str], dict[str, str]]]:
    db, cid = brand["db"], brand["campaign"]
    return [
        ("overview", ["--db", db, "overview"], {}),
        ("segments seed_cn", ["--db", db, "segments"], {}),
        ("segments lifecycle", ["--db", db, "segments", "--scheme", "lifecycle"], {}),
        ("quality", ["--db", db, "quality", "--by", "store"], {}),
        ("scenarios", ["--db", db, "scenarios"], {}),
        ("campaign show", ["--db", db, "campaign", "show", cid], {"WINBACK_NOW": LAUNCH}),
        ("campaign list", ["--db", db, "campaign", "list"], {"WINBACK_NOW": LAUNCH}),
        ("campaign report", ["--db", db, "campaign", "report", cid], {"WINBACK_NOW": AFTER}),
        ("campaign report --by store", ["--db", db, "campaign", "report", cid, "--by", "store"],
         {"WINBACK_NOW": AFTER}),
        ("info", ["--db", db, "info"], {}),
    ]  # fmt: skip


SCREENS = ["overview", "segments seed_cn", "segments lifecycle", "quality", "scenarios", "campaign show",
           "campaign list", "campaign report", "campaign report --by store", "info"]  # fmt: skip


@pytest.mark.parametrize("screen", SCREENS)
def test_screens_speak_one_language(cli: Any, brand: dict[str, str], screen: str) -> None:
    name, args, env = next(s for s in _screens(brand) if s[0] == screen)
    zh, en = cli("zh", *args, env=env), cli("en", *args, env=env)
    assert zh.exit_code == 0 and en.exit_code == 0, zh.output + en.output
    assert not untranslated(zh.output), f"{name} (zh) shows English:\n" + "\n".join(untranslated(zh.output))
    assert not chinese_left(en.output), f"{name} (en) shows Chinese:\n" + "\n".join(chinese_left(en.output))
    assert not cut_cells(zh.output) and not cut_cells(en.output), "\n".join(cut_cells(zh.output + en.output))


def test_a_new_campaign_and_its_launch_speak_one_language(cli: Any, demo_brand: Any, tmp_path: Path) -> None:
    for lang, check in (("zh", untranslated), ("en", chinese_left)):
        db = str(tmp_path / f"{lang}.duckdb")
        shutil.copy(demo_brand.db_path, db)
        made = cli(
            lang, "--db", db, "campaign", "create", "--scenario", "new_store_opening", env={"WINBACK_NOW": LAUNCH}
        )
        assert made.exit_code == 0, made.output
        cid = re.search(r"C\d{4}", made.output)
        assert cid, made.output
        launched = cli(lang, "--db", db, "campaign", "launch", cid.group(0), env={"WINBACK_NOW": LAUNCH})
        assert launched.exit_code == 0, launched.output
        for what, out in (("create", made.output), ("launch", launched.output)):
            assert not check(out), f"campaign {what} ({lang}):\n" + "\n".join(check(out))
            assert not cut_cells(out), "\n".join(cut_cells(out))


def _commands() -> list[list[str]]:
    """Every command path of the CLI (the tree as typer builds it; not localized, so collection changes nothing)."""
    import typer.main

    from winback.cli.main import app

    paths: list[list[str]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        paths.append(path)
        for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "winback")
def test_help_speaks_one_language(cli: Any, tmp_path: Path, path: list[str]) -> None:
    db = str(tmp_path / "wb.duckdb")
    zh, en = cli("zh", "--db", db, *path, "--help"), cli("en", "--db", db, *path, "--help")
    assert zh.exit_code == 0 and en.exit_code == 0, zh.output + en.output
    assert not untranslated(zh.output), f"winback {' '.join(path)} --help (zh):\n" + "\n".join(untranslated(zh.output))
    assert "用法" in zh.output and "Usage" in en.output
    assert not chinese_left(en.output), f"winback {' '.join(path)} --help (en):\n" + "\n".join(chinese_left(en.output))


# -- errors: what the suite's CLI tests provoke, and typer's own usage errors ---------------------------------------
def _errors(brand: dict[str, str], tmp: Path) -> list[tuple[str, list[str], dict[str, str]]]:
    db, cid = brand["db"], brand["campaign"]
    empty = str(tmp / "empty.duckdb")
    missing = str(tmp / "no-such-file.csv")
    garbage = tmp / "garbage.csv"
    garbage.write_text("this,is\nnot,an export\n", encoding="utf-8")
    return [
        # unknown ids
        ("unknown campaign", ["--db", db, "campaign", "show", "C9999"], {}),
        ("launch unknown campaign", ["--db", db, "campaign", "launch", "C9999"], {}),
        ("report unknown campaign", ["--db", db, "campaign", "report", "C9999"], {}),
        ("unknown scenario", ["--db", db, "campaign", "create", "--scenario", "no_such_scenario"], {}),
        ("unknown member", ["--db", db, "explain", "NO-SUCH-MEMBER"], {}),
        ("unknown scheme", ["--db", db, "segments", "--scheme", "no_such_scheme"], {}),
        ("unknown segment", ["--db", db, "members", "--segment", "no_such_segment"], {}),
        ("unknown import id", ["--db", db, "rejects", "--import", "999"], {}),
        ("unknown coupon", ["--db", db, "coupon", "redeem", "NOPE0000", "--order", "O1", "--store", "S1"], {}),
        ("unknown task", ["--db", db, "tasks", "done", "C9999:M0", "--outcome", "contacted"], {}),
        ("launch twice", ["--db", db, "campaign", "launch", cid], {"WINBACK_NOW": LAUNCH}),
        # bad option values
        ("bad --as-of", ["--db", db, "segments", "--as-of", "2024-13-45"], {}),
        ("bad --from", ["--db", db, "transitions", "--from", "x", "--to", "2026-01-01"], {}),
        ("report by colour", ["--db", db, "campaign", "report", cid, "--by", "colour"], {}),
        ("quality by colour", ["--db", db, "quality", "--by", "colour"], {}),
        ("segments by colour", ["--db", db, "segments", "--by", "colour"], {}),
        ("apply and undo", ["--db", db, "dedupe", "--apply", "--undo"], {}),
        ("bad holdout", ["--db", db, "campaign", "create", "--scenario", "new_store_opening", "--holdout", "x"], {}),
        ("bad limit", ["--db", db, "members", "--limit", "1.5"], {}),
        ("bad variant", ["--db", db, "campaign", "create", "--scenario", "new_store_opening", "--variant", "A:gold"],
         {}),
        ("future as-of", ["--db", db, "refresh", "--as-of", "2030-01-01"], {}),
        ("bad WINBACK_ENGINE", ["--db", db, "refresh"], {"WINBACK_ENGINE": "oracle"}),
        # bad files
        ("import missing file", ["--db", db, "import", "orders", missing], {}),
        ("import unknown kind", ["--db", db, "import", "receipts", missing], {}),
        ("import garbage", ["--db", db, "import", "orders", str(garbage)], {}),
        ("measure missing file", ["--db", db, "measure", missing, "--arm", "a", "--control", "c", "--outcome", "o"],
         {}),
        ("tasks import garbage", ["--db", db, "tasks", "import", str(garbage)], {}),
        ("segments before a refresh", ["--db", empty, "segments"], {}),
        # typer's own usage errors
        ("no such option", ["--db", db, "segments", "--nope"], {}),
        ("no such option, close", ["--db", db, "segments", "--sche", "x"], {}),
        ("no such command", ["--db", db, "nosuch"], {}),
        ("missing option", ["--db", db, "campaign", "create"], {}),
        ("missing argument", ["--db", db, "campaign", "launch"], {}),
        ("option needs a value", ["--db", db, "segments", "--scheme"], {}),
        ("flag takes no value", ["--db", db, "segments", "--json=3"], {}),
        ("extra argument", ["--db", db, "segments", "extra"], {}),
    ]  # fmt: skip


def test_errors_speak_one_language(cli: Any, brand: dict[str, str], tmp_path: Path) -> None:
    problems = []
    cli("en", "--db", str(tmp_path / "empty.duckdb"), "init")
    for name, args, env in _errors(brand, tmp_path):
        for lang, check in (("zh", untranslated), ("en", chinese_left)):
            try:
                res = cli(lang, *args, env=env)
            except Exception as exc:  # a crash is a failure of its own; the other cases still run
                problems.append(f"{name} ({lang}): crashed with {type(exc).__name__}: {exc}")
                continue
            out = res.stdout + res.stderr
            if res.exit_code not in (1, 2) or "Traceback" in out:
                problems.append(f"{name} ({lang}): exit {res.exit_code}\n{out}")
            elif lang == "zh" and "错误" not in out:
                problems.append(f"{name} (zh): no 错误 in\n{out}")
            problems += [f"{name} ({lang}): {b}\n    in: {out.strip()[:300]!r}" for b in check(out)]
    assert not problems, "\n".join(problems)


def test_an_unknown_lang_is_an_error(cli: Any, tmp_path: Path) -> None:
    for lang in ("fr", "de"):
        res = cli(lang, "--db", str(tmp_path / "wb.duckdb"), "info")
        assert res.exit_code == 2 and "Traceback" not in res.output, res.output
        assert f"'{lang}'" in res.stderr and "zh" in res.stderr and "en" in res.stderr, res.stderr
        as_json = cli(lang, "--db", str(tmp_path / "wb.duckdb"), "info", "--json")
        assert json.loads(as_json.stdout)["error"]["type"] == "ConfigError"
    from winback.cli.app import app

    env = CliRunner().invoke(app, ["--db", str(tmp_path / "wb.duckdb"), "info"], env={"WINBACK_LANG": "fr"})
    assert env.exit_code == 2 and "WINBACK_LANG='fr'" in env.stderr, env.output


# -- tables never cut money, ids or intervals -----------------------------------------------------------------------
def _render(table: Any, width: int = 80) -> str:
    from winback.cli.output import WideConsole

    out = io.StringIO()
    WideConsole(file=out, width=width, color_system=None).print(table)
    return out.getvalue()


def test_a_wide_table_keeps_every_money_id_and_interval_whole_at_80_columns() -> None:
    from winback.cli.output import fmt, table

    rows = [
        ["C0001:M000123456", 1234567.891, 12345678, "[-1,234,567, 9,876,543]", "a long note " * 6],
        ["C0002:M000999999", -98765.4, 7, "[0.00123, 0.0456]", "short"],
    ]
    heads = ["task", "incremental revenue", "members", "95% confidence interval", "note"]
    text = _render(table("a table wider than the terminal", heads, rows))
    assert "…" not in text
    for row in rows:
        for cell in row[:4]:
            assert fmt(cell) in text, (fmt(cell), text)


def test_a_table_that_fits_is_not_widened() -> None:
    from winback.cli.output import table

    text = _render(table("small", ["id", "members"], [["S001", 12], ["S002", 3456]]))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "3,456" in text


atom = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(-1e9, 1e9, allow_nan=False),
    st.from_regex(r"[A-Z]\d{4}:M\d{6,10}", fullmatch=True),
    st.tuples(st.integers(-(10**7), 10**7), st.integers(-(10**7), 10**7)).map(lambda p: f"[{p[0]:,}, {p[1]:,}]"),
)


@given(st.lists(st.lists(atom, min_size=6, max_size=6), min_size=1, max_size=4), st.integers(40, 120))
def test_no_short_cell_is_ever_cut(rows: list[list[object]], width: int) -> None:
    """Whatever the numbers, ids and intervals and the console width: every cell is printed whole on one line."""
    from winback.cli.output import fmt, table

    text = _render(table("t", [f"column {i}" for i in range(6)], rows), width)
    assert "…" not in text
    lines = text.splitlines()
    for row in rows:
        for cell in row:
            assert any(fmt(cell) in line for line in lines), (fmt(cell), text)
