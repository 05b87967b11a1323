"""Short links and their clicks in the warehouse (migration 016): one code per touch, clicks imported once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from winback.errors import EngineError, outdated_schema
from winback.outreach.links import Click, LinkSettings, new_code

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def ensure_links(
    db: DuckDBEngine,
    keys: Sequence[str],
    campaign_ids: Sequence[str | None],
    member_ids: Sequence[str],
    links: LinkSettings,
    now: dt.datetime,
) -> dict[str, str]:
    """idempotency key -> its short link code, drawing a code for each key that has none yet (a drawn code that
    collides with an existing one is drawn again)."""
    try:
        codes = _codes(db, keys)
        missing = [i for i, k in enumerate(keys) if k not in codes]
        for _ in range(5):
            if not missing:
                break
            drawn = [new_code() for _ in missing]
            rows = pa.table(
                {
                    "code": drawn,
                    "key": [keys[i] for i in missing],
                    "campaign_id": pa.array([campaign_ids[i] for i in missing], pa.string()),
                    "member_id": [member_ids[i] for i in missing],
                    "target_url": [
                        links.target_of(campaign_ids[i], member_ids[i], c) for i, c in zip(missing, drawn, strict=True)
                    ],
                }
            )
            with db.registered("_links", rows):
                db.execute(
                    "INSERT INTO short_links (code, idempotency_key, campaign_id, member_id, target_url, created_at) "
                    "SELECT code, key, campaign_id, member_id, target_url, ? FROM _links "
                    "WHERE code NOT IN (SELECT code FROM short_links) "
                    "AND key NOT IN (SELECT idempotency_key FROM short_links) "
                    "QUALIFY row_number() OVER (PARTITION BY code) = 1",
                    [now],
                )
            codes = _codes(db, keys)
            missing = [i for i, k in enumerate(keys) if k not in codes]
    except EngineError as exc:
        raise outdated_schema(exc, "short links need") from exc
    return codes


def _codes(db: DuckDBEngine, keys: Sequence[str]) -> dict[str, str]:
    with db.registered("_lkeys", pa.table({"key": pa.array(list(keys), pa.string())})):
        return {
            k: c
            for k, c in db.fetchall(
                "SELECT idempotency_key, code FROM short_links WHERE idempotency_key IN (SELECT key FROM _lkeys)"
            )
        }


def import_clicks(db: DuckDBEngine, clicks: Sequence[Click], file: str, now: dt.datetime) -> tuple[int, int, int]:
    """(new, already imported, unknown code) of a click log; clicks of unknown codes are not stored."""
    t = pa.table(
        {
            "click_key": [c.key for c in clicks],
            "code": [c.code for c in clicks],
            "clicked_at": pa.array([c.clicked_at for c in clicks], pa.timestamp("us")),
            "client": pa.array([c.client for c in clicks], pa.string()),
        }
    )
    try:
        with db.registered("_clicks", t), db.transaction():
            found = db.fetchone("SELECT count(*) FROM _clicks WHERE code NOT IN (SELECT code FROM short_links)")
            unknown = int(found[0]) if found else 0
            row = db.fetchone(
                "INSERT INTO link_clicks (click_key, code, clicked_at, client, source, file, loaded_at) "
                "SELECT DISTINCT ON (click_key) click_key, code, clicked_at, client, 'import', ?, ? FROM _clicks "
                "WHERE code IN (SELECT code FROM short_links) "
                "AND click_key NOT IN (SELECT click_key FROM link_clicks)",
                [file, now],
            )
    except EngineError as exc:
        raise outdated_schema(exc, "short links need") from exc
    new = int(row[0]) if row else 0
    return new, len(clicks) - new - unknown, unknown


def record_click(db: DuckDBEngine, click: Click, now: dt.datetime) -> tuple[str, bool] | None:
    """A click the console served: (the code's target URL, whether it is the code's first click), None for a code
    no touch carried (nothing stored)."""
    try:
        with db.transaction():
            row = db.fetchone(
                "SELECT target_url, NOT EXISTS (SELECT 1 FROM link_clicks WHERE code = $1) FROM short_links "
                "WHERE code = $1",
                [click.code],
            )
            if row is None:
                return None
            db.execute(
                "INSERT INTO link_clicks (click_key, code, clicked_at, client, source, file, loaded_at) "
                "VALUES (?, ?, ?, ?, 'web', NULL, ?)",
                [click.key, click.code, click.clicked_at, click.client, now],
            )
    except EngineError as exc:
        raise outdated_schema(exc, "short links need") from exc
    return str(row[0]), bool(row[1])
