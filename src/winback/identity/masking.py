"""Phones shown to people are masked: 138****5678 (uses the ingest helper when it exists)."""

from __future__ import annotations


def _own_mask(phone: str | None) -> str | None:
    if phone is None:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.startswith("+86"):
        digits = digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_phone(phone: str | None) -> str | None:
    try:
        from winback.ingest.phones import mask_phone as ingest_mask
    except ImportError:
        return _own_mask(phone)
    return ingest_mask(phone) if phone is not None else None  # type: ignore[no-any-return]
