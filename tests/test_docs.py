"""Docs that stay true: the README's command table lists every command, the docs (and the hints in src/) name
only commands that exist, docs/settings.md is generated from the settings catalogue, and every `--json` error,
under any command, has one shape: {"error": {"type", "message", "hint"}}, exit code 2 (3 when locked).

Regenerate docs/settings.md with `.venv/bin/python tests/test_docs.py --write-settings`.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "winback"
README = ROOT / "README.md"
SETTINGS_MD = ROOT / "docs" / "settings.md"
DOCS = sorted([README, *(ROOT / "docs").glob("*.md")])

# ============================================================================================================
# The commands that exist (walking the typer app) and the ones the docs mention
# ============================================================================================================

#: global options that come before the command, each with its value
GLOBAL_OPTIONS = ("--db", "--lang")


@cache
def cli_root() -> Any:
    import typer.main

    from winback.cli.main import app

    return typer.main.get_command(app)


def cli_commands() -> dict[tuple[str, ...], Any]:
    """Every command path ("campaign", "launch") -> its click command, groups included."""
    out: dict[tuple[str, ...], Any] = {}

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        if path:
            out[path] = cmd
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            if not sub.hidden:
                walk(sub, (*path, name))

    walk(cli_root(), ())
    return out


def runnable(commands: dict[tuple[str, ...], Any]) -> list[tuple[str, ...]]:
    """The paths a user can run: every command that is not a group, and groups that run on their own."""
    return [p for p, c in commands.items() if getattr(c, "commands", None) is None or c.invoke_without_command]


WORD = re.compile(r"[a-z][a-z0-9-]*(?:\|[a-z][a-z0-9-]*)*")


def command_words(tokens: list[str]) -> list[str]:
    """The command words of `winback …` tokens: global options skipped, stopping at the first argument, option or
    placeholder. `create|launch` (a table's alternatives) is one word."""
    i = 0
    while i < len(tokens):
        if tokens[i] in GLOBAL_OPTIONS:
            i += 2
        elif tokens[i].startswith(tuple(f"{o}=" for o in GLOBAL_OPTIONS)):
            i += 1
        else:
            break
    words = []
    for tok in tokens[i:]:
        if not WORD.fullmatch(tok):
            break
        words.append(tok)
    return words


def resolve(words: list[str], commands: dict[tuple[str, ...], Any]) -> list[tuple[str, ...]] | str:
    """The command paths `words` name (alternatives expanded), or why they name none."""
    paths: list[tuple[str, ...]] = [()]
    for word in words:
        nxt = []
        for path in paths:
            cmd = commands.get(path) if path else cli_root()
            subs = getattr(cmd, "commands", None)
            if subs is None:  # a command: the rest are its arguments
                nxt.append(path)
                continue
            for alt in word.split("|"):
                if alt in subs:
                    nxt.append((*path, alt))
                elif not (path and cmd.invoke_without_command):
                    where = f"`winback {' '.join(path)}`" if path else "winback"
                    return f"{where} has no command {alt!r}"
                else:
                    nxt.append(path)  # `winback demo --out x` runs the group itself; a word is its argument
        paths = sorted(set(nxt))
    return paths


@dataclass(frozen=True)
class Mention:
    where: str  # file:line
    text: str  # the command as written, from `winback`
    words: list[str]


FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
#: `winback` as a command: at the start, or after a space, a slash (.venv/bin/winback), a quote or a bracket
COMMAND = re.compile(r"(?:(?<=^)|(?<=[\s/`(\"']))winback(?=[ \t]+\S)")
NOT_SHELL = {"python", "py", "sql", "toml", "json", "yaml"}


def mentions_in(code: str, where: str) -> Iterator[Mention]:
    for line in code.split("\n"):
        line = line.replace("\\|", "|")
        for m in COMMAND.finditer(line):
            before = line[: m.start()].rstrip()
            if before.endswith(("import", "from")):
                continue
            rest = line[m.end() :].split(" #")[0]
            yield Mention(where, f"winback{rest}".strip(), command_words(rest.split()))


def doc_mentions(path: Path, root: Path = ROOT) -> Iterator[Mention]:
    """`winback …` in a document's code: fenced shell blocks and inline code spans (prose is not a command)."""
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(root).as_posix()
    for m in FENCE.finditer(text):
        if m.group(1).strip().lower() in NOT_SHELL:
            continue
        first = text.count("\n", 0, m.start(2)) + 1
        for i, line in enumerate(m.group(2).split("\n")):
            yield from mentions_in(line, f"{rel}:{first + i}")
    prose = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for n, line in enumerate(prose.split("\n"), 1):
        for span in INLINE.findall(line):
            yield from mentions_in(span, f"{rel}:{n}")


def src_mentions() -> Iterator[Mention]:
    """`winback …` in backticks inside string literals of src/ (hints and messages users read)."""
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for i, line in enumerate(node.value.split("\n")):
                    for span in INLINE.findall(line):
                        yield from mentions_in(span, f"{rel}:{node.lineno + i}")


def readme_table() -> list[tuple[str, Mention]]:
    """(row, mention) for each `winback …` in the first column of the README's command table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Commands", 1)[1].split("\n## ", 1)[0]
    out = []
    for row in section.splitlines():
        if not row.startswith("| `winback"):
            continue
        first = re.split(r"(?<!\\)\|", row)[1]
        for span in INLINE.findall(first):
            for m in mentions_in(span, "README.md"):
                out.append((row, m))
    return out


# ============================================================================================================
# Commands
# ============================================================================================================


def test_every_command_is_in_the_readme_table() -> None:
    commands = cli_commands()
    documented: set[tuple[str, ...]] = set()
    for row, m in readme_table():
        found = resolve(m.words, commands)
        assert not isinstance(found, str), f"README command table: {found}\n  {row}"
        documented.update(found)
    missing = [" ".join(p) for p in runnable(commands) if p not in documented]
    assert not missing, "commands missing from the README's command table (## Commands): " + ", ".join(
        f"`winback {m}`" for m in missing
    )


OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def test_readme_table_options_exist() -> None:
    """Every --option the command table shows is an option of that command (or a global one)."""
    commands = cli_commands()
    global_opts = {o for p in cli_root().params for o in getattr(p, "opts", [])}
    wrong = []
    for _row, m in readme_table():
        found = resolve(m.words, commands)
        if isinstance(found, str):
            continue  # reported by test_every_command_is_in_the_readme_table
        known = set(global_opts) | {"--help", "--json"}
        for path in found:
            for p in commands[path].params:
                known |= set(getattr(p, "opts", [])) | set(getattr(p, "secondary_opts", []))
        wrong += [f"`{m.text}`: {o}" for o in OPTION.findall(m.text) if o not in known]
    assert not wrong, "the README's command table shows options the commands do not have:\n" + "\n".join(wrong)


def test_docs_name_only_commands_that_exist() -> None:
    commands = cli_commands()
    wrong = [
        f"{m.where}: `{m.text}`: {found}"
        for path in DOCS
        for m in doc_mentions(path)
        if isinstance(found := resolve(m.words, commands), str)
    ]
    assert not wrong, "the docs mention commands that do not exist:\n" + "\n".join(wrong)


def test_hints_in_src_name_only_commands_that_exist() -> None:
    commands = cli_commands()
    wrong = [f"{m.where}: `{m.text}`: {f}" for m in src_mentions() if isinstance(f := resolve(m.words, commands), str)]
    assert not wrong, "messages in src/ mention commands that do not exist:\n" + "\n".join(wrong)


def test_the_docs_checker_sees_a_missing_command(tmp_path: Path) -> None:
    """The checker itself: made-up commands in a shell block and in code spans are reported, real ones are not,
    and a Python block is not a command line."""
    doc = tmp_path / "x.md"
    doc.write_text(
        "Run `winback frobnicate` or `winback campaign frobnicate C1`, then `winback --db x.duckdb overview --json`.\n"
        "```bash\n.venv/bin/winback demo --out d   # the brand\nwinback campaign launch C0001\n"
        "WINBACK_DB=x winback frobnicate --port 8000\n```\n"
        "```python\nimport winback as wb\nprint('winback is great')\n```\n",
        encoding="utf-8",
    )
    commands = cli_commands()
    found = [(m.where, m.text, isinstance(resolve(m.words, commands), str)) for m in doc_mentions(doc, tmp_path)]
    assert found == [
        ("x.md:3", "winback demo --out d", False),
        ("x.md:4", "winback campaign launch C0001", False),
        ("x.md:5", "winback frobnicate --port 8000", True),
        ("x.md:1", "winback frobnicate", True),
        ("x.md:1", "winback campaign frobnicate C1", True),
        ("x.md:1", "winback --db x.duckdb overview --json", False),
    ], found


# ============================================================================================================
# Settings: docs/settings.md is generated from config.CATALOGUE
# ============================================================================================================

WINBACK_VAR = re.compile(r"\bWINBACK_[A-Z0-9]+(?:_[A-Z0-9]+)*\b")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _type(s: Any) -> str:
    if s.choices:
        return " \\| ".join(f"`{c}`" for c in s.choices)
    return {"Path": "path", "str": "text", "int": "integer", "float": "number", "bool": "yes/no"}.get(
        s.type.__name__, s.type.__name__
    )


def _default(s: Any) -> str:
    return "(unset)" if s.default is None else f"`{s.default}`"


def settings_markdown() -> str:
    from winback.config import CATALOGUE

    lines = [
        "# Settings",
        "",
        "<!-- generated from winback.config.CATALOGUE by `.venv/bin/python tests/test_docs.py --write-settings`",
        "     (tests/test_docs.py fails when this file differs: edit the catalogue, not this file) -->",
        "",
        "Every setting winback has, in one table. Each is declared once, in `winback.config.CATALOGUE`, and read once,",
        "at the entry point (`Settings.load()`: the CLI builds the app object with it); no other code reads a",
        "`WINBACK_*` variable. A value comes from, in order of precedence: the command-line option where there is one",
        "(`--db`, `--lang`, `--engine`, `--orders-parquet`, `--members-parquet`), the environment variable, the",
        "default. A value outside the listed choices is a `ConfigError` (exit code 2), reported before the command",
        "does anything.",
        "",
        "| setting | environment variable | type | default | 说明 | meaning |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{s.name}` | `{s.env}` | {_type(s)} | {_default(s)} | {_cell(s.help_zh)} | {_cell(s.help_en)} |"
        for s in CATALOGUE
    ]
    return "\n".join(lines) + "\n"


def test_settings_md_is_generated_from_the_catalogue() -> None:
    assert SETTINGS_MD.read_text(encoding="utf-8") == settings_markdown(), (
        "docs/settings.md differs from winback.config.CATALOGUE; run `.venv/bin/python tests/test_docs.py "
        "--write-settings`"
    )


def test_every_setting_is_documented() -> None:
    from winback.config import CATALOGUE

    text = SETTINGS_MD.read_text(encoding="utf-8")
    missing = [f"{s.name} ({s.env})" for s in CATALOGUE if f"`{s.name}`" not in text or f"`{s.env}`" not in text]
    assert not missing, f"settings missing from docs/settings.md: {missing}"


def test_docs_name_no_unknown_variable() -> None:
    from winback.config import BY_ENV

    unknown = [
        f"{path.relative_to(ROOT)}:{n}: {name}"
        for path in DOCS
        for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1)
        for name in WINBACK_VAR.findall(line)
        if name not in BY_ENV
    ]
    assert not unknown, "the docs name WINBACK_ variables that are not settings:\n" + "\n".join(unknown)


def test_readme_lists_the_dependencies() -> None:
    """The README's dependency sentence names every runtime dependency of pyproject.toml, and the extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    text = README.read_text(encoding="utf-8")
    sentence = text[text.index("Dependencies:") :].split("\n\n")[0].lower()
    names = [re.split(r"[<>=!~\[ ;]", d)[0].lower() for d in project["dependencies"]]
    names += [re.split(r"[<>=!~\[ ;]", d)[0].lower() for d in project["optional-dependencies"].get("spark", [])]
    missing = [n for n in names if n not in sentence]
    assert not missing, f"README's 'Dependencies:' sentence misses {missing}"


# ============================================================================================================
# One error shape under every command
# ============================================================================================================


def _env(**values: str) -> dict[str, str | None]:
    """The command's environment: no WINBACK_* variable from the shell running the tests, then `values`."""
    from winback.config import CATALOGUE

    return {**{s.env: None for s in CATALOGUE}, **values}


def _unknown_code() -> str:
    from winback.campaigns.coupons import check_symbol

    payload = "23456789ABC"
    return payload + check_symbol(payload)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty warehouse (migrated, no data)."""
    from typer.testing import CliRunner

    from winback.cli.main import app

    db = tmp_path_factory.mktemp("docs") / "wb.duckdb"
    res = CliRunner().invoke(app, ["--db", str(db), "init", "--json"], env=_env())
    assert res.exit_code == 0, res.output
    return db


#: (id, arguments after --db, extra environment, the error type expected); "{missing}" is a file that does not exist
BAD_INPUT: list[tuple[str, list[str], dict[str, str], str]] = [
    ("unknown campaign", ["campaign", "show", "C9999"], {}, "NotFoundError"),
    ("launch unknown campaign", ["campaign", "launch", "C9999"], {}, "NotFoundError"),
    ("unknown scenario", ["campaign", "create", "--scenario", "no_such_scenario"], {}, "NotFoundError"),
    ("import missing file", ["import", "orders", "{missing}"], {}, "InputError"),
    ("import unknown kind", ["import", "receipts", "{missing}"], {}, "InputError"),
    ("bad --as-of (segments)", ["segments", "--as-of", "2024-13-45"], {}, "InputError"),
    ("bad --as-of (refresh)", ["refresh", "--as-of", "not-a-date"], {}, "InputError"),
    ("bad --from", ["transitions", "--from", "x", "--to", "2026-01-01"], {}, "InputError"),
    ("segments before a refresh", ["segments"], {}, "NotFoundError"),
    ("coupon redeem unknown code", ["coupon", "redeem", "{code}", "--order", "O1", "--store", "S1"], {},
     "NotFoundError"),
    ("coupon redeem malformed code", ["coupon", "redeem", "NOPE0000", "--order", "O1", "--store", "S1"], {},
     "InputError"),
    ("unknown import id", ["rejects", "--import", "999"], {}, "NotFoundError"),
    ("measure missing file", ["measure", "{missing}", "--arm", "a", "--control", "c", "--outcome", "o"], {},
     "InputError"),
    ("quality by unknown field", ["quality", "--by", "colour"], {}, "InputError"),
    ("bad WINBACK_LANG", ["info"], {"WINBACK_LANG": "fr"}, "ConfigError"),
    ("bad WINBACK_ENGINE", ["refresh"], {"WINBACK_ENGINE": "oracle"}, "ConfigError"),
]  # fmt: skip


def _args(args: list[str], tmp_path: Path) -> list[str]:
    missing = str(tmp_path / "no-such-file.csv")
    return [a.replace("{missing}", missing).replace("{code}", _unknown_code()) for a in args]


def assert_one_error(res: Any, exit_code: int, error_type: str | None = None) -> dict[str, Any]:
    """--json: stdout is exactly one JSON object {"error": {"type", "message", "hint"}}; the exit code; no
    traceback anywhere."""
    shown = f"exit {res.exit_code}\nstdout: {res.stdout}\nstderr: {res.stderr}\nexception: {res.exception!r}"
    assert "Traceback" not in res.stdout + res.stderr, shown
    assert res.exit_code == exit_code, shown
    assert res.stdout.strip().count("\n") == 0, f"more than one line on stdout:\n{shown}"
    body = json.loads(res.stdout)
    assert isinstance(body, dict) and list(body) == ["error"], shown
    assert sorted(body["error"]) == ["hint", "message", "type"], shown
    err = body["error"]
    assert isinstance(err["type"], str) and isinstance(err["message"], str) and err["message"], shown
    assert err["hint"] is None or isinstance(err["hint"], str), shown
    if error_type is not None:
        assert err["type"] == error_type, shown
    return err


@pytest.mark.parametrize(("case", "args", "env", "error_type"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_every_json_error_has_one_shape(
    warehouse: Path, tmp_path: Path, case: str, args: list[str], env: dict[str, str], error_type: str
) -> None:
    from typer.testing import CliRunner

    from winback.cli.main import app

    argv = ["--db", str(warehouse), *_args(args, tmp_path)]
    assert_one_error(CliRunner().invoke(app, [*argv, "--json"], env=_env(**env)), 2, error_type)
    human = CliRunner().invoke(app, argv, env=_env(**env))
    assert human.exit_code == 2 and "Traceback" not in human.stdout + human.stderr, human.output
    assert "错误" in human.stderr or "error" in human.stderr, human.output  # the "error:" prefix, zh by default


@pytest.mark.parametrize("args", [["segments"], ["overview"], ["campaign", "list"], ["info"]])
def test_a_missing_warehouse_is_one_error(tmp_path: Path, args: list[str]) -> None:
    from typer.testing import CliRunner

    from winback.cli.main import app

    db = tmp_path / "nowhere" / "wb.duckdb"
    res = CliRunner().invoke(app, ["--db", str(db), *args, "--json"], env=_env())
    assert_one_error(res, 2, "InputError")
    assert not db.exists(), "a read-only command created the warehouse"


def test_a_locked_warehouse_is_one_error_with_exit_3(warehouse: Path) -> None:
    """Another process holds the file for writing: exit 3, WarehouseLockedError, in the same shape."""
    from typer.testing import CliRunner

    from winback.cli.main import app

    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
         "sys.stdin.read()", str(warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        for args in (["segments"], ["campaign", "show", "C0001"], ["info"]):
            res = CliRunner().invoke(app, ["--db", str(warehouse), *args, "--json"], env=_env(WINBACK_LOCK_WAIT="0"))
            assert_one_error(res, 3, "WarehouseLockedError")
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-settings"]:
        SETTINGS_MD.write_text(settings_markdown(), encoding="utf-8")
        print(f"wrote {SETTINGS_MD.relative_to(ROOT)}")
    else:
        print(__doc__)
