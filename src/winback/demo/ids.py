"""Unique, scattered identifiers from row numbers: phone numbers, WeChat ids, card numbers (vectorised).

Each person has a global index. `scramble` is a keyed bijection of [0, n) (multiplication modulo a prime with
cycle-walking), so index → phone number never repeats a number and neighbours in the file get unrelated
numbers. Nothing here draws random numbers: the same index always gives the same identifier.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from winback.demo.vocab import MOBILE_PREFIXES

_PHONE_SPACE = len(MOBILE_PREFIXES) * 10**8
_PHONE_PRIME = 3_900_000_007  # the smallest prime above the phone space (39 prefixes × 10^8)
_WECHAT_SPACE = 36**8
_WECHAT_PRIME = 2_821_109_907_503  # the smallest prime above 36^8
_B36 = np.array(list("0123456789abcdefghijklmnopqrstuvwxyz"))

#: index ranges of the kinds of people, so their phone numbers can never collide
STAFF_BASE = 3_000_000_000
WECHAT_ONLY_BASE = 2_000_000_000


def _mulmod(x: np.ndarray, a: np.ndarray | int, p: int) -> np.ndarray:
    """(x * a) mod p for int64 0 <= x, a < p < 2^43, without overflow (a split into 16-bit pieces)."""
    out = (x * ((a >> 32) & 0xFFFF)) % p
    out = (out * 65536 + x * ((a >> 16) & 0xFFFF)) % p
    return (out * 65536 + x * (a & 0xFFFF)) % p


def _round(y: np.ndarray, key: int, prime: int) -> np.ndarray:
    """A permutation of [1, prime): multiply by key, raise to the 5th power (gcd(5, prime-1) = 1), multiply."""
    y = _mulmod(y, key, prime)
    y2 = _mulmod(y, y, prime)
    y = _mulmod(_mulmod(y2, y2, prime), y, prime)
    return _mulmod(y, (key ^ 0x5BD1E995) % (prime - 2) + 2, prime)


def scramble(index: np.ndarray, space: int, prime: int, key: int) -> np.ndarray:
    """A keyed, non-linear bijection of [0, space) for space < prime < 2^43 (cycle-walking on [1, prime))."""
    y = _round(index.astype(np.int64) + 1, key, prime)
    out_of_range = y > space
    while out_of_range.any():
        y[out_of_range] = _round(y[out_of_range], key, prime)
        out_of_range = y > space
    return y - 1


def _key(seed: int, salt: int, prime: int) -> int:
    k = (seed * 2_654_435_761 + salt * 40_503 + 12_345) % (prime - 2)
    return k + 2  # never 0 or 1


def mobile_numbers(index: np.ndarray, seed: int) -> pa.Array:
    """Valid 11-digit CN mobile numbers, distinct for distinct indexes."""
    j = scramble(index, _PHONE_SPACE, _PHONE_PRIME, _key(seed, 1, _PHONE_PRIME))
    prefix = pa.array(MOBILE_PREFIXES).take(pa.array(j // 10**8))
    suffix = pc.utf8_lpad(pa.array(j % 10**8).cast(pa.string()), 8, "0")
    return pc.binary_join_element_wise(prefix, suffix, "")


def wechat_ids(index: np.ndarray, seed: int) -> pa.Array:
    """WeChat ids like 'wxid_k3f9a0zq2m', distinct for distinct indexes."""
    j = scramble(index, _WECHAT_SPACE, _WECHAT_PRIME, _key(seed, 2, _WECHAT_PRIME))
    digits = np.empty((len(j), 8), dtype="<U1")
    rest = j.copy()
    for k in range(7, -1, -1):
        digits[:, k] = _B36[rest % 36]
        rest //= 36
    tail = _B36[(j // 7) % 36]  # two more characters so the ids look like real ones
    tail2 = _B36[(j // 1291) % 36]
    body = np.char.add(np.char.add(digits.view("<U8").ravel(), tail), tail2)
    return pa.array(np.char.add("wxid_", body))


def card_numbers(index: np.ndarray) -> pa.Array:
    """ERP membership card numbers: '88' followed by 10 digits."""
    digits = pc.utf8_lpad(pa.array(index.astype(np.int64) + 1).cast(pa.string()), 10, "0")
    return pc.binary_join_element_wise("88", digits, "")
