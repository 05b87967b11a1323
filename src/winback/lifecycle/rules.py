"""Segmentation schemes as rules: ordered SQL predicates over snapshot columns, with zh and en labels.

A rules file is TOML::

    [schemes.seed_cn]
    zh = "沉睡分层"
    en = "Dormancy by days since last purchase"
    rules = [
      { segment = "never_purchased", when = "recency_days IS NULL", zh = "无消费会员", en = "never purchased" },
      { segment = "active", when = "recency_days < 90", zh = "活跃会员", en = "active" },
      { segment = "lost", when = "true", zh = "流失会员", en = "lost" },
    ]

The first rule whose predicate holds names the member's segment; the last rule must be `true` so that every member
lands in exactly one segment. Predicates are parsed with sqlglot; only snapshot columns (SNAPSHOT_COLUMNS),
literals, comparisons, boolean and arithmetic operators, CASE and the functions in SAFE_FUNCTIONS are allowed.
A rules file is bounded (LIMITS: file size, schemes per file, rules per scheme, predicate length and nesting); a file
over a limit, or nested deeper than Python can parse, is a ConfigError naming the file and the limit.
Pure: no database access.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from winback.errors import ConfigError
from winback.i18n import N_, _

# Columns a predicate may use: name -> (type, meaning). Scheme outputs (value_layer, lifecycle_stage) are not
# inputs: a scheme cannot depend on another scheme.
SNAPSHOT_COLUMNS: dict[str, tuple[str, str]] = {
    "store_id": ("text", "home store"),
    "guide_id": ("text", "exclusive shopping guide"),
    "tier": ("text", "membership tier"),
    "register_channel": ("text", "online | offline"),
    "register_date": ("date", "registration date"),
    "first_purchase": ("date", "first day with a paid order"),
    "last_purchase": ("date", "last day with a paid order"),
    "orders": ("integer", "paid orders"),
    "purchase_days": ("integer", "distinct days with a paid order"),
    "frequency": ("integer", "repeat purchase days (purchase_days - 1)"),
    "monetary": ("decimal", "sum of paid and refunded amounts"),
    "aov": ("double", "monetary / orders"),
    "tenure_days": ("integer", "days since registration (or first purchase)"),
    "recency_days": ("integer", "days since the last purchase; NULL = never purchased"),
    "first_purchase_days": ("integer", "days since the first purchase"),
    "span_days": ("integer", "days from first to last purchase"),
    "cycle_days": ("double", "personal purchase cycle in days (shrunk toward the cohort prior)"),
    "cycle_prior_days": ("double", "the cohort's median purchase cycle"),
    "cycle_weight": ("double", "weight of the member's own intervals in cycle_days"),
    "overdue_ratio": ("double", "recency_days / cycle_days"),
    "p_alive": ("double", "MBG/NBD probability that the member is still active"),
    "expected_purchases_90d": ("double", "MBG/NBD expected purchase days in the next 90 days"),
    "expected_value": ("double", "Gamma-Gamma expected value per purchase day"),
    "expected_revenue_90d": ("double", "expected purchase days in 90 days x expected value per purchase day"),
    "clv": ("double", "expected purchase days in 365 days x expected value per purchase day"),
    "r_score": ("integer", "recency quintile score 1-5 (5 = most recent)"),
    "f_score": ("integer", "frequency quintile score 1-5"),
    "m_score": ("integer", "monetary quintile score 1-5"),
}

SAFE_FUNCTIONS: dict[type[exp.Expression], str] = {
    exp.Coalesce: "coalesce",
    exp.Least: "least",
    exp.Greatest: "greatest",
    exp.Abs: "abs",
    exp.Round: "round",
    exp.Floor: "floor",
    exp.Ceil: "ceil",
    exp.Ln: "ln",
    exp.Log: "log",
    exp.Sqrt: "sqrt",
    exp.Pow: "power",
    exp.Exp: "exp",
    exp.Lower: "lower",
    exp.Upper: "upper",
    exp.Cast: "cast",
    exp.Case: "case",
    exp.If: "case/if",
    exp.Nullif: "nullif",
}

_STRUCTURE: tuple[type[exp.Expression], ...] = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Tuple,
    exp.And,
    exp.Or,
    exp.Not,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.Neg,
    exp.DataType,
)

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
DEFAULT_RULES = "default.toml"

# Bounds on a rules file (docs/lifecycle.md, "Limits"). The shipped schemes use a small fraction of each.
MAX_FILE_BYTES = 1_048_576  # 1 MiB of TOML
MAX_SCHEMES = 50  # [schemes.NAME] tables per file
MAX_RULES = 200  # rules (segments) per scheme
MAX_PREDICATE_CHARS = 2_000  # characters in one `when`
MAX_NESTING = 32  # nested parentheses and CASE … END in one predicate

# The limit messages (msgids; the Chinese is in i18n/zh/lifecycle.po), keys: what was exceeded; `{where}` names the
# file (and scheme, segment).
LIMIT_MESSAGES: dict[str, str] = {
    "file_bytes": N_("{where}: the rules file is {size:,} bytes, over the limit of {limit:,} bytes"),
    "schemes": N_("{where}: {size:,} schemes, over the limit of {limit:,} per file"),
    "rules": N_("{where}: {size:,} rules, over the limit of {limit:,} per scheme"),
    "predicate_chars": N_("{where}: the predicate is {size:,} characters, over the limit of {limit:,}"),
    "nesting": N_(
        "{where}: the predicate nests {size:,} levels deep (parentheses or CASE), over the limit of {limit:,}"
    ),
    "recursion": N_("{where}: nested too deeply to parse (Python's recursion limit)"),
}
LIMIT_HINT = N_("Split or simplify the rules (limits: docs/lifecycle.md, 'Limits of a rules file').")


def limit_error(key: str, where: str, size: int = 0, limit: int = 0) -> ConfigError:
    """A ConfigError for an exceeded limit, in the user's language, naming the file and the limit."""
    return ConfigError(_(LIMIT_MESSAGES[key], where=where, size=size, limit=limit), hint=_(LIMIT_HINT))


def _nesting(text: str, where: str) -> int:
    """The deepest nesting of parentheses and CASE … END in `text`, from sqlglot's tokens (string-aware)."""
    depth = deepest = 0
    try:
        tokens = sqlglot.tokenize(text, read="duckdb")
    except TokenError as exc:
        raise ConfigError(
            _(
                "{where}: cannot read the predicate {text!r}: {reason}",
                where=where,
                text=text,
                reason=str(exc).splitlines()[0],
            ),
            hint=_('Write one SQL boolean expression over snapshot columns, e.g. "recency_days >= 90 AND orders > 1".'),
        ) from None
    for token in tokens:
        if token.token_type in (TokenType.L_PAREN, TokenType.CASE):
            depth += 1
            deepest = max(deepest, depth)
        elif token.token_type in (TokenType.R_PAREN, TokenType.END):
            depth -= 1
    return deepest


@dataclass(frozen=True)
class Rule:
    segment: str
    when: str  # the validated predicate, re-rendered in DuckDB SQL
    zh: str
    en: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def to_dict(self) -> dict[str, str]:
        return {"segment": self.segment, "when": self.when, "zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Scheme:
    name: str
    zh: str
    en: str
    rules: tuple[Rule, ...]
    source: str = ""

    @property
    def segments(self) -> list[str]:
        return [r.segment for r in self.rules]

    def rule_for(self, segment: str) -> Rule | None:
        return next((r for r in self.rules if r.segment == segment), None)

    def label(self, segment: str, lang: str) -> str:
        rule = self.rule_for(segment)
        return rule.label(lang) if rule else segment

    def case_sql(self) -> str:
        """A CASE expression naming the first matching segment (DuckDB SQL, portable to Spark)."""
        whens = " ".join(f"WHEN ({r.when}) THEN '{r.segment}'" for r in self.rules)
        return f"CASE {whens} END"

    def to_dict(self) -> dict[str, Any]:
        return {"zh": self.zh, "en": self.en, "source": self.source, "rules": [r.to_dict() for r in self.rules]}


def validate_predicate(text: str, *, where: str, columns: Iterable[str] = SNAPSHOT_COLUMNS) -> exp.Expression:
    """Parse one predicate and allow only known columns, safe functions and plain operators.

    `where` names the rule (e.g. "scheme 'seed_cn', segment 'active'") in every error message.
    """
    known = set(columns)
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(
            _("{where}: `when` is empty", where=where),
            hint=_('Write a predicate such as "recency_days < 90" or "true".'),
        )
    if len(text) > MAX_PREDICATE_CHARS:
        raise limit_error("predicate_chars", where, len(text), MAX_PREDICATE_CHARS)
    depth = _nesting(text, where)
    if depth > MAX_NESTING:
        raise limit_error("nesting", where, depth, MAX_NESTING)
    try:
        return _check_tree(text, where, known)
    except RecursionError:  # e.g. thousands of NOT or unary minus: deeper than sqlglot's recursive parser goes
        raise limit_error("recursion", where) from None


#: predicates already checked in this process (text -> DuckDB SQL): a refresh parses the shipped schemes and each
#: stored run's rules, the same ~100 predicates two or three times (sqlglot: ~1 ms each); failures are not kept
_CHECKED: dict[str, str] = {}
_CHECKED_MAX = 4096


def predicate_sql(text: str, *, where: str) -> str:
    """`validate_predicate(text)` over the snapshot columns, as DuckDB SQL; the same text is checked once per
    process (a ConfigError names `where` every time: failures are checked again)."""
    if isinstance(text, str) and (done := _CHECKED.get(text)) is not None:
        return done
    tree = validate_predicate(text, where=where)
    try:
        sql = tree.sql(dialect="duckdb")
    except RecursionError:
        raise limit_error("recursion", where) from None
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.clear()
    _CHECKED[text] = sql
    return sql


def _check_tree(text: str, where: str, known: set[str]) -> exp.Expression:
    try:
        parsed = [p for p in sqlglot.parse(text, read="duckdb") if p is not None]
    except ParseError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(
            _("{where}: cannot parse the predicate {text!r}: {reason}", where=where, text=text, reason=first),
            hint=_('Write one SQL boolean expression over snapshot columns, e.g. "recency_days >= 90 AND orders > 1".'),
        ) from None
    if len(parsed) != 1:
        raise ConfigError(
            _(
                ("{where}: the predicate {text!r} holds {n} statements; only one expression is allowed"),
                where=where,
                text=text,
                n=len(parsed),
            ),
            hint=_("Remove the `;` and anything after it."),
        )
    tree = parsed[0]
    if isinstance(tree, exp.Query | exp.DDL | exp.DML | exp.Command | exp.Drop | exp.Create | exp.Insert):
        raise ConfigError(
            _(
                "{where}: {text!r} is a {kind} statement, not a predicate",
                where=where,
                text=text,
                kind=type(tree).__name__.upper(),
            ),
            hint=_('A rule may only test snapshot columns, e.g. "recency_days >= 90".'),
        )
    for node in tree.walk():
        if isinstance(node, exp.Subquery | exp.Select | exp.Exists | exp.Query):
            raise ConfigError(
                _("{where}: subqueries are not allowed in a predicate ({text!r})", where=where, text=text),
                hint=_("Use snapshot columns only; see `winback segments --help` or docs/lifecycle.md for the list."),
            )
        if isinstance(node, exp.Column):
            if node.table:
                raise ConfigError(
                    _("{where}: column {sql!r} names a table; use the bare column name", where=where, sql=node.sql()),
                    hint=_("Known columns: {known}.", known=", ".join(sorted(known))),
                )
            if node.name.lower() not in known:
                raise ConfigError(
                    _("{where}: unknown column {name!r} in {text!r}", where=where, name=node.name, text=text),
                    hint=_("Known columns: {known}.", known=", ".join(sorted(known))),
                )
            continue
        if isinstance(node, exp.Anonymous):
            raise ConfigError(
                _("{where}: unknown function {name!r} in {text!r}", where=where, name=node.name, text=text),
                hint=_("Allowed functions: {functions}.", functions=", ".join(sorted(set(SAFE_FUNCTIONS.values())))),
            )
        if type(node) in SAFE_FUNCTIONS or isinstance(node, _STRUCTURE):
            continue
        if isinstance(node, exp.Func):
            raise ConfigError(
                _(
                    "{where}: function {function!r} is not allowed in {text!r}",
                    where=where,
                    function=node.sql_name().lower(),
                    text=text,
                ),
                hint=_("Allowed functions: {functions}.", functions=", ".join(sorted(set(SAFE_FUNCTIONS.values())))),
            )
        raise ConfigError(
            _(
                "{where}: {name} is not allowed in a predicate ({text!r})",
                where=where,
                name=type(node).__name__,
                text=text,
            ),
            hint=_("Use comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, arithmetic and CASE over snapshot columns."),
        )
    tree.sql(dialect="duckdb")  # rendering recurses too: a RecursionError surfaces here, inside the guard
    return tree


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            _("{where}: `{key}` is missing or empty", where=where, key=key),
            hint=_('Add {key} = "…" (zh and en labels).', key=key),
        )
    return value


def parse_schemes(data: dict[str, Any], source: str) -> dict[str, Scheme]:
    """Schemes from a parsed rules document (the [schemes.NAME] tables)."""
    schemes_raw = data.get("schemes")
    if not isinstance(schemes_raw, dict) or not schemes_raw:
        raise ConfigError(
            _("{source}: no [schemes.NAME] tables found", source=source),
            hint=_("See src/winback/rules/default.toml for the format."),
        )
    if len(schemes_raw) > MAX_SCHEMES:
        raise limit_error("schemes", source, len(schemes_raw), MAX_SCHEMES)
    out: dict[str, Scheme] = {}
    for name, body in schemes_raw.items():
        where = _("{source}: scheme {name!r}", source=source, name=name)
        if not _NAME.match(name):
            raise ConfigError(_("{where}: a scheme name must be lower-case letters, digits and _", where=where))
        if not isinstance(body, dict):
            raise ConfigError(_("{where}: expected a table with zh, en and rules", where=where))
        rules_raw = body.get("rules")
        if not isinstance(rules_raw, list) or not rules_raw:
            raise ConfigError(
                _("{where}: `rules` is missing or empty", where=where), hint=_("Give an ordered list of rules.")
            )
        if len(rules_raw) > MAX_RULES:
            raise limit_error("rules", where, len(rules_raw), MAX_RULES)
        rules: list[Rule] = []
        for i, entry in enumerate(rules_raw, start=1):
            if not isinstance(entry, dict):
                raise ConfigError(_("{where}, rule {i}: expected a table with segment, when, zh, en", where=where, i=i))
            segment = entry.get("segment")
            if not isinstance(segment, str) or not _NAME.match(segment):
                raise ConfigError(
                    _(
                        (
                            "{where}, rule {i}: segment {segment!r} must be an identifier (lower-case "
                            "letters, digits, _)"
                        ),
                        where=where,
                        i=i,
                        segment=segment,
                    )
                )
            rwhere = _("{where}, segment {segment!r}", where=where, segment=segment)
            if segment in {r.segment for r in rules}:
                raise ConfigError(
                    _("{rwhere}: the segment appears twice", rwhere=rwhere), hint=_("Merge the two predicates with OR.")
                )
            when = predicate_sql(entry.get("when", ""), where=rwhere)
            zh, en = _text(entry, "zh", rwhere), _text(entry, "en", rwhere)
            rules.append(Rule(segment, when, zh, en))
        if rules[-1].when.upper() != "TRUE":
            raise ConfigError(
                _(
                    '{where}: the last rule ({segment!r}) must be `when = "true"`',
                    where=where,
                    segment=rules[-1].segment,
                ),
                hint=_("A catch-all last rule guarantees every member lands in exactly one segment."),
            )
        out[name] = Scheme(name, _text(body, "zh", where), _text(body, "en", where), tuple(rules), source)
    return out


def load_toml(text: str, where: str) -> dict[str, Any]:
    """Parse a rules document; nesting deeper than Python's recursion limit is a ConfigError naming `where`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            _("{where} is not valid TOML: {exc}", where=where, exc=exc), hint=_("Fix the line named above.")
        ) from None
    except RecursionError:
        raise limit_error("recursion", where) from None


def read_bounded(path: Path, what: str, hint: str, limit: int = MAX_FILE_BYTES) -> str:
    """The text of a rules file of at most `limit` bytes (read no further than that)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise ConfigError(
            _("cannot read the {what} {path}: {strerror}", what=what, path=path, strerror=exc.strerror), hint=hint
        ) from exc
    if len(raw) > limit:
        raise limit_error("file_bytes", str(path), path.stat().st_size, limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            _(
                "the {what} {path} is not UTF-8 text: {reason} at byte {start}",
                what=what,
                path=path,
                reason=exc.reason,
                start=exc.start,
            )
        ) from None


def read_rules_file(path: Path) -> dict[str, Scheme]:
    text = read_bounded(path, _("rules file"), _("Check the --rules path."))
    return parse_schemes(load_toml(text, _("the rules file {path}", path=path)), str(path))


def default_schemes() -> dict[str, Scheme]:
    text = resources.files("winback.rules").joinpath(DEFAULT_RULES).read_text(encoding="utf-8")
    return parse_schemes(tomllib.loads(text), f"winback/rules/{DEFAULT_RULES}")


def load_schemes(extra: Iterable[Path | str] = ()) -> dict[str, Scheme]:
    """The shipped schemes, then each user file in order; a user scheme replaces a shipped one of the same name."""
    schemes = default_schemes()
    for path in extra:
        schemes.update(read_rules_file(Path(path)))
    return schemes
