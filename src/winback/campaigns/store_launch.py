"""A launch's SQL, set-based: the audience as Arrow, then members, coupons, guide tasks and touches written by a
handful of INSERT … SELECT statements over one registered table (no per-member Python), in one transaction.

The scripts are rendered in SQL: the scenario's template is split into its literal text and its fields
({name} {guide} {store} {offer} {code} {expires}; any other field is empty, as outreach.scripts.render does), and
each field becomes a column expression. A guide's members are ranked by the scenario's order with row_number().
"""

from __future__ import annotations

import datetime as dt
import string
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from winback.campaigns.assign import CONTROL
from winback.campaigns.audience import EXCLUSION_REASONS, audience_sql
from winback.campaigns.coupons import draw_code_array
from winback.campaigns.scenarios import Scenario
from winback.campaigns.types import Campaign
from winback.outreach import store as outreach_store
from winback.outreach.scripts import render
from winback.warehouse import till_orders

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

_FIELDS = {
    "name": "m.name",
    "guide": "s.name",
    "store": "st.name",
    "offer": "o.label",
    "code": "CASE WHEN l.code IS NULL THEN '' ELSE substr(l.code, 1, 4) || '-' || substr(l.code, 5, 4) || '-' "
    "|| substr(l.code, 9, 4) END",
}


def launch_audience(
    db: DuckDBEngine, scenario: Scenario, *, as_of: dt.date, stores: list[str] | None, frequency_cap_days: int,
    now: dt.datetime, campaign_id: str,
) -> tuple[pa.Table, dict[str, int]]:  # fmt: skip
    """The members the launch keeps (Arrow, ordered by member id) and the exclusions counted by reason."""
    sql, params = audience_sql(
        scenario, as_of=as_of, stores=stores, frequency_cap_days=frequency_cap_days, now=now, campaign_id=campaign_id
    )
    rows = db.query(sql, params)
    excluded = {k: 0 for k in EXCLUSION_REASONS}
    for reason, n in db_counts(rows["excluded"]):
        excluded[reason] += n
    kept = rows.filter(pc.is_null(rows["excluded"])).drop_columns(["excluded", "consent_unknown"])
    return kept, excluded


def db_counts(column: pa.ChunkedArray) -> list[tuple[str, int]]:
    counts = pc.value_counts(column.drop_null()) if column.null_count < len(column) else []
    return [(c["values"].as_py(), c["counts"].as_py()) for c in counts]


def _script_sql(template: str, expires: dt.datetime) -> str | None:
    """The template as one SQL string expression over the launch's joins; None when it uses format specs or
    conversions (then the scripts are rendered in Python)."""
    parts = []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        if literal:
            parts.append("'" + literal.replace("'", "''") + "'")
        if field is None:
            continue
        if spec or conversion:
            return None
        if field == "expires":
            parts.append(f"'{expires:%Y-%m-%d}'")
        elif field in _FIELDS:
            parts.append(f"coalesce({_FIELDS[field]}, '')")
    return " || ".join(parts) if parts else "''"


def _lit(text: str) -> str:
    """A SQL string literal (a view cannot take parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _offers(c: Campaign, lang: str) -> pa.Table:
    offers = c.offers()
    keys = [k for k in offers if k != CONTROL]
    return pa.table(
        {
            "arm": keys,
            "kind": [offers[k].kind for k in keys],
            "value": pa.array([offers[k].value for k in keys], pa.float64()),
            "threshold": pa.array([offers[k].threshold for k in keys], pa.float64()),
            "label": [offers[k].label(lang) for k in keys],
        }
    )


def _with_codes(c: Campaign, members: pa.Table) -> pa.Table:
    """The members with a `code` column: a fresh code for each treated member whose arm offers something."""
    offered = {k for k, o in c.offers().items() if k != CONTROL and o.kind != "none"}
    mask = pc.is_in(members["arm"], pa.array(sorted(offered), pa.string())).to_numpy(zero_copy_only=False)
    codes = draw_code_array(int(mask.sum()))
    slot = pa.array(np.cumsum(mask) - 1, mask=~mask)  # the k-th offered member takes the k-th code, others none
    return members.append_column("code", pc.take(codes, slot))


_CLASH_SQL = """
    SELECT code FROM _launch_codes WHERE code IS NOT NULL GROUP BY code HAVING count(*) > 1
    UNION SELECT n.code FROM _launch_codes n JOIN coupons c USING (code)
"""


def _redraw_clashes(db: DuckDBEngine, members: pa.Table) -> pa.Table:
    """Codes drawn twice in the launch, or already issued to another coupon, are drawn anew until none clashes
    (the coupons' primary key would refuse them: the launch would fail rather than issue a code twice)."""
    while True:
        with db.registered("_launch_codes", members.select(["code"])):
            clash = pa.array([r[0] for r in db.fetchall(_CLASH_SQL)], pa.string())
        if not len(clash):
            return members
        codes = members["code"].combine_chunks()
        again = pc.fill_null(pc.is_in(codes, clash), False)
        fresh = draw_code_array(int(pc.sum(again).as_py()))
        codes = pc.replace_with_mask(codes, again, fresh)
        members = members.set_column(members.schema.get_field_index("code"), "code", codes)


_TASK_CHANNELS = ("guide_task", "task_sheet", "ai_call")

_OUT_SQL = """
    CREATE TEMP TABLE _launch_out AS
    SELECT l.member_id, l.guide_id, l.store_id, l.code, {script} AS script,
           row_number() OVER (PARTITION BY l.guide_id ORDER BY {order_expr} DESC, l.member_id)
             AS priority
    FROM _launch l JOIN _offers o ON o.arm = l.arm
    LEFT JOIN members m ON m.member_id = l.member_id
    LEFT JOIN staff s ON s.guide_id = l.guide_id
    LEFT JOIN stores st ON st.store_id = l.store_id
    ORDER BY l.member_id  -- tasks and touches are then inserted in the order of their keys (cheaper ART inserts)
"""


def write_launch(
    db: DuckDBEngine, c: Campaign, sc: Scenario, members: pa.Table, *, now: dt.datetime, lang: str, due_days: int
) -> tuple[int, int, int]:
    """Members (with `arm`, `stratum`) frozen, coupons issued, tasks and touches written, the campaign running — one
    transaction. Returns (coupons, tasks, touches)."""
    cid, expires = c.campaign_id, now + dt.timedelta(days=int(c.coupon_valid_days))
    template = sc.script_zh if lang == "zh" else sc.script_en
    script = _script_sql(template, expires)
    order_by = sc.order_by if sc.order_by in members.column_names else None
    launch = _redraw_clashes(db, _with_codes(c, members))
    with db.registered("_launch", launch), db.registered("_offers", _offers(c, lang)), db.transaction():
        db.execute(
            "INSERT INTO campaign_members SELECT ?, member_id, arm, store_id, guide_id, segment, stratum, monetary "
            "FROM _launch",
            [cid],
        )
        db.execute(
            "INSERT INTO coupons (code, campaign_id, member_id, variant_key, offer_kind, offer_value, "
            " offer_threshold, issued_at, expires_at) "
            "SELECT l.code, ?, l.member_id, l.arm, o.kind, o.value, o.threshold, ?, ? "
            "FROM _launch l JOIN _offers o ON o.arm = l.arm WHERE l.code IS NOT NULL ORDER BY l.code",
            [cid, now, expires],
        )
        till_orders.cover(db.con)  # the tills' paid orders reach back to the earliest live coupon's issue day
        order_expr = f"coalesce(l.{order_by}, 0)" if order_by else "0"
        db.execute(_OUT_SQL.format(script=script or "NULL::VARCHAR", order_expr=order_expr))
        if script is None:
            _render_in_python(db, template, expires)
        kind = "call" if sc.channel == "guide_task" else "follow_up"
        # a touch a person carries out stands for the member's guide task (the task sheet and call list name it)
        task_id = f"{_lit(cid + ':')} || member_id" if sc.channel in _TASK_CHANNELS else "NULL::VARCHAR"
        db.execute(
            f"CREATE TEMP VIEW _launch_tasks AS SELECT {_lit(cid + ':')} || member_id AS task_id, "
            f" {_lit(cid)} AS campaign_id, member_id, guide_id, store_id, {_lit(kind)} AS kind, script, "
            " code AS coupon_code, priority::INTEGER AS priority FROM _launch_out"
        )
        tasks = outreach_store.create_tasks_from(db, "_launch_tasks", now, due_days, campaign_id=cid)
        db.execute(
            # the key of outreach.ledger.touch_key(campaign, member, channel), step 1
            f"CREATE TEMP VIEW _launch_touches AS SELECT {_lit(cid + ':')} || member_id "
            f" || {_lit(':' + sc.channel + ':1')}"
            f" AS idempotency_key, {_lit(cid)} AS campaign_id, member_id, {_lit(sc.channel)} AS channel, "
            " json_object('text', script, 'code', code)::VARCHAR AS payload, NULL::TIMESTAMP AS due_at, "
            f" NULL::VARCHAR AS journey_id, NULL::INTEGER AS step, {task_id} AS task_id FROM _launch_out"
        )
        touches = outreach_store.queue_launch_touches(db, "_launch_touches", cid, now)
        for obj in ("VIEW _launch_touches", "VIEW _launch_tasks", "TABLE _launch_out"):
            db.execute(f"DROP {obj}")
        db.execute("UPDATE campaigns SET status = 'running', launched_at = ? WHERE campaign_id = ?", [now, cid])
    return int(pc.sum(pc.is_valid(launch["code"])).as_py() or 0), tasks, touches


def _render_in_python(db: DuckDBEngine, template: str, expires: dt.datetime) -> None:
    """Fill `_launch_out.script` row by row, for a template with format specs (render's own str.format)."""
    rows: list[tuple[Any, ...]] = db.fetchall(
        "SELECT o.member_id, m.name, s.name, st.name, f.label, o.code FROM _launch_out o "
        "JOIN _launch l USING (member_id) JOIN _offers f ON f.arm = l.arm "
        "LEFT JOIN members m ON m.member_id = o.member_id LEFT JOIN staff s ON s.guide_id = o.guide_id "
        "LEFT JOIN stores st ON st.store_id = o.store_id"
    )
    from winback.campaigns.coupons import display

    scripts = pa.table(
        {
            "member_id": [r[0] for r in rows],
            "script": [
                render(template, name=r[1], guide=r[2], store=r[3], offer=r[4], code=display(r[5]) if r[5] else "",
                       expires=f"{expires:%Y-%m-%d}")
                for r in rows
            ],
        }
    )  # fmt: skip
    with db.registered("_launch_scripts", scripts):
        db.execute("UPDATE _launch_out o SET script = p.script FROM _launch_scripts p WHERE p.member_id = o.member_id")
