"""Phones shown to people are masked (138****5678); the ingest module owns the rule."""

from __future__ import annotations

from winback.ingest.phones import mask_phone as _ingest_mask


def mask_phone(phone: str | None) -> str | None:
    """None stays None (no phone), anything else is masked by `winback.ingest.phones.mask_phone`."""
    return None if phone is None else _ingest_mask(phone)
