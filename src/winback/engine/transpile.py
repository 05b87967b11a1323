"""DuckDB-dialect SQL → Spark SQL, with sqlglot plus targeted fixes where its output would differ on Spark.

winback writes every analytic statement in DuckDB's dialect. `to_spark` parses it with sqlglot (read="duckdb"),
applies the fixes below to the syntax tree, and prints it for Spark. Each fix exists because the plain sqlglot
output runs on Spark but gives a different answer (or does not run); tests/engine shows every case on both engines.

Fixes:
- `date_diff(unit, a, b)`: DuckDB counts unit *boundaries* crossed (23:00 → 01:00 next day is 1 day); sqlglot
  emits Spark's `DATEDIFF(unit, a, b)` (= TIMESTAMPDIFF), which counts *whole* units (0 days). Day → Spark's
  two-argument `DATEDIFF(CAST(b AS DATE), CAST(a AS DATE))`; week → that DIV 7 (DuckDB truncates whole weeks of
  days); other units → TIMESTAMPDIFF on DATE_TRUNC'd values.
- `a / b`: DuckDB's `/` always returns DOUBLE (also for DECIMAL operands); Spark keeps DECIMAL with its own scale
  and rounding. Both operands are cast to DOUBLE so the result matches DuckDB's to the last bit.
- `avg(x)`: DuckDB returns DOUBLE; Spark returns DECIMAL(p+4, s+4) for a DECIMAL input (8.416667 instead of
  8.416666666666666). The argument is cast to DOUBLE.
- `CAST(x AS INTEGER)` of a fractional value: DuckDB rounds (DOUBLE half-to-even: 2.5 → 2; DECIMAL half away from
  zero: 2.5 → 3), Spark truncates (2). Where x is visibly fractional (a division, avg, ln/exp/pow/sqrt, a cast to
  DOUBLE/DECIMAL, a decimal literal, arithmetic on those) it becomes CAST(BROUND(x) …) or CAST(ROUND(x) …).
  For a bare column write CAST(round(x) AS INTEGER) yourself (round is half away from zero on both engines).
- `date - date`: DuckDB gives a BIGINT day count, Spark an INTERVAL. Where both sides are visibly dates
  (CAST/TRY_CAST … AS DATE, DATE literals, CURRENT_DATE) it becomes a day count. Columns carry no type in the
  syntax tree, so write `date_diff('day', a, b)` for column arithmetic (docs/spark.md says so).
- `quantile_cont(x, q)`: sqlglot emits `PERCENTILE_CONT(x, q)`, which Spark rejects; Spark's `PERCENTILE(x, q)`
  is the same linear interpolation (also for a list of quantiles).
- `percentile_cont/percentile_disc(q) WITHIN GROUP (ORDER BY x)`: sqlglot prints Spark's PERCENTILE_APPROX, an
  approximation; Spark has the exact ordered-set form, so it is kept. `quantile_disc(x, q)` becomes that form too.
- `$1, $2` parameters: Spark only has `?` (positional) or `:name`; see `spark_params`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError
from sqlglot.tokens import TokenType

from winback.errors import EngineError
from winback.i18n import _

READ = "duckdb"
WRITE = "spark"


def parse(sql: str) -> list[exp.Expression]:
    """Parse DuckDB-dialect SQL (one or more statements) into syntax trees."""
    try:
        trees = sqlglot.parse(sql, read=READ)
    except ParseError as exc:
        raise EngineError(
            _("cannot translate this SQL for Spark: {exc}", exc=exc),
            hint=_("The statement was: {sql}. winback's SQL is written in DuckDB's dialect.", sql=_short(sql)),
        ) from exc
    return [t for t in trees if t is not None]


def to_spark(sql: str) -> str:
    """Translate one DuckDB-dialect statement to Spark SQL."""
    trees = parse(sql)
    if len(trees) != 1:
        raise EngineError(
            _("expected one SQL statement, got {n_trees}", n_trees=len(trees)),
            hint=_("Split the statements and run them one by one: {sql}", sql=_short(sql)),
        )
    return generate(fix_tree(trees[0]))


def to_spark_statements(sql: str) -> list[str]:
    """Translate a script of DuckDB-dialect statements, one Spark SQL string per statement."""
    return [generate(fix_tree(t)) for t in parse(sql)]


def generate(tree: exp.Expression) -> str:
    return tree.sql(dialect=WRITE)


def fix_tree(tree: exp.Expression) -> exp.Expression:
    """Apply every Spark fix to a parsed DuckDB syntax tree, innermost nodes first (returns a new tree)."""
    root = tree.copy()
    # Reversed pre-order visits every node after all of its descendants, so fixes nest (a date_diff in a division).
    for node in reversed(list(root.walk(bfs=False))):
        fixed = _fix_node(node)
        if fixed is not node:
            if node is root:
                root = fixed
            else:
                node.replace(fixed)
    return root


def _fix_node(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DateDiff):
        return _date_diff(node)
    if isinstance(node, exp.Div):
        return _double_division(node)
    if isinstance(node, exp.Avg) and not isinstance(node.this, exp.Distinct):
        return exp.Avg(this=_as_double(node.this))
    if isinstance(node, exp.Sub) and _is_date(node.this) and _is_date(node.expression):
        return _day_count(node.expression, node.this)
    if isinstance(node, exp.Cast) and _is_integer_type(node.to) and (kind := _fraction_kind(node.this)):
        return _integer_cast(node, kind)
    if isinstance(node, exp.WithinGroup) and isinstance(node.this, (exp.PercentileCont, exp.PercentileDisc)):
        return _exact_percentile(node)
    if isinstance(node, exp.PercentileCont) and not isinstance(node.parent, exp.WithinGroup) and node.expression:
        return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])
    if isinstance(node, exp.PercentileDisc) and not isinstance(node.parent, exp.WithinGroup) and node.expression:
        order = exp.Order(expressions=[exp.Ordered(this=node.this, nulls_first=False)])
        return exp.WithinGroup(
            this=exp.Anonymous(this="PERCENTILE_DISC", expressions=[node.expression]), expression=order
        )
    return node


def _exact_percentile(node: exp.WithinGroup) -> exp.Expression:
    """Keep `percentile_cont/disc(q) WITHIN GROUP (ORDER BY x)` exact (sqlglot would print PERCENTILE_APPROX)."""
    name = "PERCENTILE_CONT" if isinstance(node.this, exp.PercentileCont) else "PERCENTILE_DISC"
    return exp.WithinGroup(this=exp.Anonymous(this=name, expressions=[node.this.this]), expression=node.expression)


_DAY_UNITS = {"DAY", "DAYS", "D"}
_WEEK_UNITS = {"WEEK", "WEEKS", "W"}


def _date_diff(node: exp.DateDiff) -> exp.Expression:
    unit = node.args.get("unit")
    unit_name = (unit.name if unit is not None else "DAY").upper() or "DAY"
    start, end = node.expression, node.this
    if unit_name in _DAY_UNITS:
        return _day_count(start, end)
    if unit_name in _WEEK_UNITS:  # DuckDB: whole weeks of day boundaries, truncated toward zero (-8 days → -1)
        days = exp.Anonymous(this="DATEDIFF", expressions=[_as_date(end), _as_date(start)])
        return exp.cast(exp.IntDiv(this=days, expression=exp.Literal.number(7)), exp.DataType.build("BIGINT"))
    truncated = [exp.Anonymous(this="DATE_TRUNC", expressions=[exp.Literal.string(unit_name), e]) for e in (start, end)]
    return exp.cast(
        exp.Anonymous(this="TIMESTAMPDIFF", expressions=[exp.var(unit_name), *truncated]),
        exp.DataType.build("BIGINT"),
    )


def _day_count(start: exp.Expression, end: exp.Expression) -> exp.Expression:
    """Days from `start` to `end` as BIGINT (DuckDB's type for date_diff and date - date)."""
    days = exp.Anonymous(this="DATEDIFF", expressions=[_as_date(end), _as_date(start)])
    return exp.cast(days, exp.DataType.build("BIGINT"))


def _as_date(e: exp.Expression) -> exp.Expression:
    if isinstance(e, exp.Cast) and e.to.is_type(exp.DataType.Type.DATE):
        return e
    return exp.cast(e.copy(), exp.DataType.build("DATE"))


def _is_date(e: exp.Expression) -> bool:
    if isinstance(e, (exp.Cast, exp.TryCast)):
        return e.to.is_type(exp.DataType.Type.DATE)
    return isinstance(e, (exp.CurrentDate, exp.DateStrToDate, exp.StrToDate, exp.Date, exp.DateFromParts))


_INTEGER_TYPES = (
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
)
_FRACTIONAL_TYPES = (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL)
_FRACTIONAL_FUNCS = (exp.Avg, exp.Ln, exp.Log, exp.Exp, exp.Pow, exp.Sqrt, exp.PercentileCont, exp.Stddev)


def _is_integer_type(to: exp.DataType) -> bool:
    return to.is_type(*_INTEGER_TYPES)


def _fraction_kind(e: exp.Expression) -> str | None:
    """'double' or 'decimal' when an expression is visibly fractional, else None (a column's type is not in the tree).

    DuckDB casts DOUBLE to integers with round-half-even and DECIMAL with round-half-away-from-zero.
    """
    if isinstance(e, exp.Paren):
        return _fraction_kind(e.this)
    if isinstance(e, (exp.Div, *_FRACTIONAL_FUNCS)):
        return "double"
    if isinstance(e, (exp.Cast, exp.TryCast)):
        if e.to.is_type(exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT):
            return "double"
        return "decimal" if e.to.is_type(exp.DataType.Type.DECIMAL) else None
    if isinstance(e, exp.Literal):
        return None if e.is_string or e.this.lstrip("-").isdigit() else "decimal"
    if isinstance(e, exp.Neg):
        return _fraction_kind(e.this)
    if isinstance(e, (exp.Add, exp.Sub, exp.Mul)):
        kinds = {_fraction_kind(e.this), _fraction_kind(e.expression)}
        return "double" if "double" in kinds else "decimal" if "decimal" in kinds else None
    return None


def _integer_cast(node: exp.Cast, kind: str) -> exp.Expression:
    rounded: exp.Expression
    if kind == "double":
        rounded = exp.Anonymous(this="BROUND", expressions=[node.this.copy()])
    else:
        rounded = exp.Round(this=node.this.copy())
    return exp.Cast(this=rounded, to=node.to.copy())


def _double_division(node: exp.Div) -> exp.Expression:
    if any(isinstance(side, exp.Interval) for side in (node.this, node.expression)):
        return node
    return exp.Div(this=_as_double(node.this), expression=_as_double(node.expression))


def _as_double(e: exp.Expression) -> exp.Expression:
    if isinstance(e, exp.Div) or (isinstance(e, exp.Cast) and e.to.is_type(exp.DataType.Type.DOUBLE)):
        return e
    return exp.cast(e.copy(), exp.DataType.build("DOUBLE"))


@dataclass(frozen=True)
class SparkStatement:
    """A translated statement and the values of its named `:pN` markers (None when it has none)."""

    sql: str
    args: dict[str, object] | None


def spark_params(sql: str, params: Sequence[object] | None) -> SparkStatement:
    """Translate one statement and bind DuckDB parameters (`?` in order, or `$n`) as Spark named markers `:pN`.

    Named markers keep the binding right even where a fix reorders arguments (date_diff's start/end).
    """
    text = _number_question_marks(sql)
    trees = parse(text)
    if len(trees) != 1:
        raise EngineError(
            _("expected one SQL statement, got {n_trees}", n_trees=len(trees)),
            hint=_("The statement: {sql}", sql=_short(sql)),
        )
    tree = fix_tree(trees[0])
    markers = list(tree.find_all(exp.Placeholder))
    given = list(params or [])
    args: dict[str, object] = {}
    for marker in markers:
        if marker.this is None or not str(marker.this).isdigit():
            raise EngineError(_("unsupported parameter marker {sql}", sql=marker.sql(dialect=READ)), hint=_short(sql))
        number = int(str(marker.this))
        if not 1 <= number <= len(given):
            raise EngineError(
                _(
                    "the SQL uses parameter {number} but {n_given} parameter(s) were given",
                    number=number,
                    n_given=len(given),
                ),
                hint=_("Give one value per marker: {sql}", sql=_short(sql)),
            )
        args[f"p{number}"] = given[number - 1]
        marker.replace(exp.Placeholder(this=f"p{number}"))
    if given and len(args) != len(given):
        raise EngineError(
            _("{n_given} parameter(s) were given but the SQL uses {n_args}", n_given=len(given), n_args=len(args)),
            hint=_("Give one value per marker: {sql}", sql=_short(sql)),
        )
    return SparkStatement(generate(tree), args or None)


def _number_question_marks(sql: str) -> str:
    """Rewrite each positional `?` marker as `$k` (k counted left to right), leaving strings and comments alone."""
    if "?" not in sql:
        return sql
    all_tokens = Dialect.get_or_raise(READ).tokenize(sql)
    tokens = [t for t in all_tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    if not tokens:
        return sql
    if any(t.token_type == TokenType.PARAMETER for t in all_tokens):
        raise EngineError(_("mixing `?` and `$n` parameters in one statement is not supported"), hint=_short(sql))
    out: list[str] = []
    last = 0
    for k, token in enumerate(tokens, start=1):
        out.append(sql[last : token.start])
        out.append(f"${k}")
        last = token.end + 1
    out.append(sql[last:])
    return "".join(out)


def _short(sql: str, limit: int = 300) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
