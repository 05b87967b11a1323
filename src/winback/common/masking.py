"""Phones shown to people are masked (138****5678); `common.phones` owns the rule."""

from __future__ import annotations

from winback.common.phones import mask_phone as _mask


def mask_phone(phone: str | None) -> str | None:
    """None stays None (no phone), anything else is masked by `winback.common.phones.mask_phone`."""
    return None if phone is None else _mask(phone)
