"""Coupon codes: unguessable, unique, with a check character; scannable QR images. Pure except `save_qr`.

Alphabet: 32 symbols without 0/O/1/I (nothing to misread at a till). A code is 11 random symbols from
`secrets` (55 bits) plus one Luhn mod 32 check symbol, shown as XXXX-XXXX-XXXX. The check symbol catches every
single mistyped symbol and most swaps of neighbours before the warehouse is asked.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import segno

from winback.errors import InputError
from winback.i18n import _

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_N = len(ALPHABET)
PAYLOAD_LEN = 11


def _luhn_sum(symbols: str, start_factor: int) -> int:
    factor, total = start_factor, 0
    for ch in reversed(symbols):
        addend = factor * _INDEX[ch]
        total += addend // _N + addend % _N
        factor = 1 if factor == 2 else 2
    return total


def check_symbol(payload: str) -> str:
    return ALPHABET[(_N - _luhn_sum(payload, 2) % _N) % _N]


def normalise(code: str) -> str:
    """Upper case, without spaces or dashes (what a person types or a scanner reads)."""
    return "".join(code.split()).replace("-", "").upper()


def is_valid(code: str) -> bool:
    c = normalise(code)
    return len(c) == PAYLOAD_LEN + 1 and all(ch in _INDEX for ch in c) and _luhn_sum(c, 1) % _N == 0


def validate(code: str) -> str:
    """The normalised code, or an InputError that says what is wrong with what was typed."""
    c = normalise(code)
    bad = sorted({ch for ch in c if ch not in _INDEX})
    if bad or len(c) != PAYLOAD_LEN + 1:
        raise InputError(
            _("{code!r} is not a coupon code", code=code),
            hint=_(
                "Codes have {n} symbols from {alphabet} (no 0/O/1/I), e.g. 7KQ2-M9XA-PD4T.",
                n=PAYLOAD_LEN + 1,
                alphabet=ALPHABET,
            )
            + (" " + _("Not allowed here: {bad}.", bad="".join(bad)) if bad else ""),
        )
    if not is_valid(c):
        raise InputError(
            _("{code!r} fails its check symbol", code=code), hint=_("A symbol was probably mistyped; read it again.")
        )
    return c


def display(code: str) -> str:
    c = normalise(code)
    return "-".join(c[i : i + 4] for i in range(0, len(c), 4))


def new_code() -> str:
    """11 symbols from 55 bits of `secrets` entropy, then the check symbol."""
    bits = int.from_bytes(secrets.token_bytes(7), "big") >> 1
    payload = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(PAYLOAD_LEN))
    return payload + check_symbol(payload)


def draw_code_array(count: int) -> pa.StringArray:
    """`count` codes at once as an Arrow string array (numpy, no Python object per code): 55 bits of `secrets`
    entropy each, symbols and Luhn check vectorised. Not checked for uniqueness (see `new_codes`)."""
    count = max(count, 0)
    bits = np.frombuffer(secrets.token_bytes(8 * count), dtype=np.uint64) >> np.uint64(9)
    width = PAYLOAD_LEN + 1
    index = np.empty((count, width), dtype=np.uint8)  # the symbols' indexes in ALPHABET, payload then check
    total = np.zeros(count, dtype=np.uint16)
    for i in range(PAYLOAD_LEN):  # symbol i holds bits 5i … 5i+4; the Luhn factor is 2 on the rightmost symbol
        symbol = ((bits >> np.uint64(5 * i)) & np.uint64(31)).astype(np.uint8)
        index[:, i] = symbol
        addend = symbol.astype(np.uint16) * (2 if (PAYLOAD_LEN - 1 - i) % 2 == 0 else 1)
        total += addend // _N + addend % _N
    index[:, PAYLOAD_LEN] = (_N - total % _N) % _N
    data = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)[index]
    offsets = np.arange(0, width * (count + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data))


def draw_codes(count: int) -> list[str]:
    """`count` codes at once (`draw_code_array` as Python strings)."""
    return draw_code_array(count).to_pylist() if count > 0 else []


def new_codes(count: int, taken: Iterable[str] = ()) -> list[str]:
    """`count` fresh codes, unique among themselves and not in `taken`."""
    used = set(taken)
    out: list[str] = []
    while len(out) < count:
        for c in draw_codes(count - len(out)):
            if c not in used:
                used.add(c)
                out.append(c)
    return out


def qr(code: str) -> segno.QRCode:
    """QR (error correction M) holding the normalised code, as a till scanner reads it."""
    return segno.make_qr(normalise(code), error="m")


def save_qr(code: str, path: Path | str, scale: int = 8) -> Path:
    """Write the QR as .png or .svg (by suffix)."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise InputError(
            _("cannot write a QR image as {suffix!r}", suffix=path.suffix), hint=_("Use a .png or .svg file name.")
        )
    qr(code).save(str(path), scale=scale, border=4)
    return path
