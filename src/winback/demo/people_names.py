"""Chinese names and the variants a guide types into WeChat remarks (vectorised with Arrow)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from winback.demo.vocab import GIVEN_FEMALE, GIVEN_MALE, NICK_SUFFIXES, REMARK_TAGS, SURNAMES

_SURNAME = pa.array([s for s, _ in SURNAMES])
_SURNAME_P = np.array([w for _, w in SURNAMES]) / sum(w for _, w in SURNAMES)
_FEMALE = pa.array(list(GIVEN_FEMALE))
_MALE = pa.array(list(GIVEN_MALE))


def _given_chars(rng: np.random.Generator, female: np.ndarray) -> pa.Array:
    n = len(female)
    f = _FEMALE.take(pa.array(rng.integers(0, len(_FEMALE), n)))
    m = _MALE.take(pa.array(rng.integers(0, len(_MALE), n)))
    return pc.if_else(pa.array(female), f, m)


def surnames(rng: np.random.Generator, n: int) -> pa.Array:
    return _SURNAME.take(pa.array(rng.choice(len(_SURNAME), size=n, p=_SURNAME_P)))


def chinese_names(rng: np.random.Generator, female: np.ndarray) -> pa.Array:
    """Surname + one or two given-name characters (72 % two), drawn by gender."""
    n = len(female)
    first = _given_chars(rng, female)
    second = pc.if_else(pa.array(rng.random(n) < 0.72), _given_chars(rng, female), pa.scalar(""))
    return pc.binary_join_element_wise(surnames(rng, n), first, second, "")


def remark_names(rng: np.random.Generator, names: pa.Array) -> pa.Array:
    """How a guide saves a customer in WeChat: mostly the name itself, else the name with a tag ('王芳VIP',
    '王芳-老客'), a nickname from the surname ('王姐'), or the name one character off (a typing slip)."""
    n = len(names)
    u = rng.random(n)
    surname = pc.utf8_slice_codeunits(names, 0, 1)
    given_len = pc.subtract(pc.utf8_length(names), 1)
    tags = pa.array(REMARK_TAGS).take(pa.array(rng.integers(0, len(REMARK_TAGS), n)))
    sep = pa.array(["", "-", " "]).take(pa.array(rng.integers(0, 3, n)))
    tagged = pc.binary_join_element_wise(names, sep, tags, "")
    nick = pc.binary_join_element_wise(
        surname, pa.array(NICK_SUFFIXES).take(pa.array(rng.integers(0, len(NICK_SUFFIXES), n))), ""
    )
    # typing slip: replace the last character with another common one
    slip_char = _FEMALE.take(pa.array(rng.integers(0, len(_FEMALE), n)))
    head = pc.utf8_slice_codeunits(names, 0, -1)
    slip = pc.binary_join_element_wise(head, slip_char, "")
    slip = pc.if_else(pc.greater_equal(given_len, 1), slip, names)
    out = pc.if_else(pa.array(u < 0.72), names, tagged)
    out = pc.if_else(pa.array((u >= 0.87) & (u < 0.93)), nick, out)
    return pc.if_else(pa.array(u >= 0.93), slip, out)
