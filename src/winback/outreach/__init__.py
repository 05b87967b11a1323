"""Outreach: guide tasks and the contact ledger (touches with idempotency keys, frequency caps, opt-outs)."""
