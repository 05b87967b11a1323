"""AES-256-CBC in plain Python (FIPS-197 and SP 800-38A), for WeCom's callback messages (wecom_callback.py): the
`cryptography` package is not a dependency, and a callback is a few hundred bytes, so speed does not matter
(≈ 0.1 ms a block). The tables are computed from the field GF(2⁸), not typed in. No padding here: callers pad.
Not constant-time: fit for decrypting provider callbacks, not for a service others can time."""

from __future__ import annotations

from winback.errors import InputError
from winback.i18n import _

BLOCK = 16


def _xtime(a: int) -> int:
    a <<= 1
    return a ^ 0x11B if a & 0x100 else a


def _tables() -> tuple[list[int], list[int], list[int], list[int]]:
    """exp / log over the generator 3, the S-box (inverse then the affine map) and its inverse."""
    exp, log = [0] * 510, [0] * 256
    x = 1
    for i in range(255):
        exp[i] = exp[i + 255] = x
        log[x] = i
        x ^= _xtime(x)
    sbox = [0] * 256
    for a in range(256):
        b = 0 if a == 0 else exp[255 - log[a]]
        s = b
        for _i in range(4):
            b = ((b << 1) | (b >> 7)) & 0xFF
            s ^= b
        sbox[a] = s ^ 0x63
    inv = [0] * 256
    for a, s in enumerate(sbox):
        inv[s] = a
    return exp, log, sbox, inv


_EXP, _LOG, SBOX, INV_SBOX = _tables()


def _mul_table(k: int) -> list[int]:
    return [0 if a == 0 else _EXP[_LOG[a] + _LOG[k]] for a in range(256)]


_M2, _M3, _M9, _M11, _M13, _M14 = (_mul_table(k) for k in (2, 3, 9, 11, 13, 14))


def expand_key(key: bytes) -> list[list[int]]:
    """The 15 round keys of a 32-byte key."""
    if len(key) != 32:
        raise InputError(_("an AES-256 key has 32 bytes, got {n}", n=len(key)))
    w = [list(key[4 * i : 4 * i + 4]) for i in range(8)]
    rcon = 1
    for i in range(8, 60):
        t = list(w[i - 1])
        if i % 8 == 0:
            t = [SBOX[b] for b in t[1:] + t[:1]]
            t[0] ^= rcon
            rcon = _xtime(rcon)
        elif i % 8 == 4:
            t = [SBOX[b] for b in t]
        w.append([a ^ b for a, b in zip(w[i - 8], t, strict=True)])
    return [[b for word in w[4 * r : 4 * r + 4] for b in word] for r in range(15)]


def _shift(s: list[int], sign: int) -> list[int]:
    return [s[r + 4 * ((c + sign * r) % 4)] for c in range(4) for r in range(4)]


def encrypt_block(rk: list[list[int]], block: bytes) -> bytes:
    s = [b ^ k for b, k in zip(block, rk[0], strict=True)]
    for r in range(1, 15):
        s = _shift([SBOX[b] for b in s], 1)
        if r < 14:
            m = []
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = s[c : c + 4]
                m += [_M2[a0] ^ _M3[a1] ^ a2 ^ a3, a0 ^ _M2[a1] ^ _M3[a2] ^ a3,
                      a0 ^ a1 ^ _M2[a2] ^ _M3[a3], _M3[a0] ^ a1 ^ a2 ^ _M2[a3]]  # fmt: skip
            s = m
        s = [b ^ k for b, k in zip(s, rk[r], strict=True)]
    return bytes(s)


def decrypt_block(rk: list[list[int]], block: bytes) -> bytes:
    s = [b ^ k for b, k in zip(block, rk[14], strict=True)]
    for r in range(13, -1, -1):
        s = [INV_SBOX[b] for b in _shift(s, -1)]
        s = [b ^ k for b, k in zip(s, rk[r], strict=True)]
        if r > 0:
            m = []
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = s[c : c + 4]
                m += [_M14[a0] ^ _M11[a1] ^ _M13[a2] ^ _M9[a3], _M9[a0] ^ _M14[a1] ^ _M11[a2] ^ _M13[a3],
                      _M13[a0] ^ _M9[a1] ^ _M14[a2] ^ _M11[a3], _M11[a0] ^ _M13[a1] ^ _M9[a2] ^ _M14[a3]]  # fmt: skip
            s = m
    return bytes(s)


def cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    if len(data) % BLOCK or len(iv) != BLOCK:
        raise InputError(_("AES-CBC needs whole 16-byte blocks and a 16-byte IV"))
    rk, prev, out = expand_key(key), iv, bytearray()
    for i in range(0, len(data), BLOCK):
        prev = encrypt_block(rk, bytes(a ^ b for a, b in zip(data[i : i + BLOCK], prev, strict=True)))
        out += prev
    return bytes(out)


def cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    if len(data) % BLOCK or len(iv) != BLOCK:
        raise InputError(_("AES-CBC needs whole 16-byte blocks and a 16-byte IV"))
    rk, prev, out = expand_key(key), iv, bytearray()
    for i in range(0, len(data), BLOCK):
        block = data[i : i + BLOCK]
        out += bytes(a ^ b for a, b in zip(decrypt_block(rk, block), prev, strict=True))
        prev = block
    return bytes(out)
