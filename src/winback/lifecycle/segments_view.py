"""`member_segments` as a view over `member_snapshot` and the rules each refresh used.

A member's segment in a scheme is a pure function of their snapshot row and the scheme's ordered predicates (every
predicate column is a snapshot column), so nothing is materialised: after each refresh the view is recreated with
one branch per (rule set, scheme), each a CASE over the snapshot rows of the as-of dates that used that rule set.
A refresh therefore writes no per-member-per-scheme rows (60M for 10M members and six schemes) and a monthly
history costs no segment storage, while readers keep the `member_segments(as_of, scheme, member_id, segment)`
columns. The `value` and `lifecycle` schemes read their stored snapshot columns (value_layer, lifecycle_stage),
which the refresh computed from the same rules, and fall back to the rules where those are empty.

This module builds the view's SQL (pure); `store.record_run` and `store.rebuild_segments_view` run it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from winback.errors import ConfigError
from winback.i18n import _
from winback.lifecycle.rules import Scheme, parse_schemes

VIEW = "member_segments"
STORED_COLUMNS = {"value": "value_layer", "lifecycle": "lifecycle_stage"}  # scheme -> member_snapshot column

EMPTY_SQL = (
    "SELECT CAST(NULL AS DATE) AS as_of, CAST(NULL AS VARCHAR) AS scheme, CAST(NULL AS VARCHAR) AS member_id, "
    "CAST(NULL AS VARCHAR) AS segment WHERE false"
)


def _date_list(dates: Sequence[dt.date]) -> str:
    return ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(dates))


def segment_sql(scheme: Scheme) -> str:
    """A member_snapshot row's segment in `scheme`: the stored column of value / lifecycle, else the rules."""
    column = STORED_COLUMNS.get(scheme.name)
    return f"COALESCE({column}, {scheme.case_sql()})" if column else scheme.case_sql()


def scheme_branch_sql(
    scheme: Scheme, dates: Sequence[dt.date], columns: str = "member_id", source: str = "member_snapshot"
) -> str:
    """The (as_of, scheme, member_id, segment) rows of one scheme at `dates`. Scheme and segment names are
    validated identifiers, so they are safe as literals. `columns` and `source` (fixed text of the caller's):
    other snapshot columns in place of member_id, from another relation with the snapshot's columns (the pages'
    sums read them beside the segment instead of joining the view back to the snapshot: lifecycle/store_pages.py)."""
    segment = segment_sql(scheme)
    return (
        f"SELECT as_of, '{scheme.name}' AS scheme, {columns}, {segment} AS segment "
        f"FROM {source} WHERE as_of IN ({_date_list(dates)})"
    )


def segments_view_sql(runs: Sequence[tuple[Sequence[dt.date], Sequence[Scheme]]]) -> str:
    """The view's SELECT (pure): `runs` pairs the as-of dates that share a rule set with that rule set."""
    branches = [scheme_branch_sql(s, dates) for dates, schemes in runs for s in schemes]
    return " UNION ALL ".join(branches) if branches else EMPTY_SQL


def schemes_of_run(rules: dict[str, Any], as_of: dt.date) -> list[Scheme]:
    """The schemes stored in snapshot_runs.rules (re-validated: the JSON is data anyone can edit)."""
    return list(parse_schemes({"schemes": rules}, f"snapshot_runs.rules at {as_of}").values())


def _predicates_key(rules: dict[str, Any]) -> str:
    """What decides the segments of a rule set: per scheme, the ordered (segment, predicate) pairs (labels and the
    rules file's path do not)."""
    return json.dumps(
        {name: [[r.get("segment"), r.get("when")] for r in body.get("rules", [])] for name, body in rules.items()},
        sort_keys=True,
    )


def grouped_runs(
    rows: Sequence[tuple[dt.date, str | dict[str, Any]]],
) -> tuple[list[tuple[list[dt.date], list[Scheme]]], list[str]]:
    """(as_of, rules JSON) rows grouped by identical predicates, each group parsed once; returns the groups and one
    message per rule set that no longer validates (its dates are left out of the view rather than failing every
    later refresh and upgrade)."""
    by_rules: dict[str, tuple[list[dt.date], dict[str, Any]]] = {}
    for as_of, rules_json in rows:
        rules = json.loads(rules_json) if isinstance(rules_json, str) else rules_json
        by_rules.setdefault(_predicates_key(rules), ([], rules))[0].append(as_of)
    groups: list[tuple[list[dt.date], list[Scheme]]] = []
    problems: list[str] = []
    for dates, rules in by_rules.values():
        try:
            groups.append((dates, schemes_of_run(rules, dates[0])))
        except ConfigError as exc:
            shown = ", ".join(d.isoformat() for d in dates)
            problems.append(
                _(
                    "no segments for the snapshot(s) at {shown}: their stored rules are invalid ({message}); "
                    "refresh those dates again (winback refresh --as-of DATE) to store valid rules",
                    shown=shown,
                    message=exc.message,
                )
            )
    return groups, problems
