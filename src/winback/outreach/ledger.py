"""The contact ledger's rules: every touch has an idempotency key, so a retried launch or a crashed sender never
queues or sends twice. Pure; the touches and guide tasks are written by outreach.store."""

from __future__ import annotations


def touch_key(campaign_id: str, member_id: str, channel: str, step: int = 1) -> str:
    return f"{campaign_id}:{member_id}:{channel}:{step}"
