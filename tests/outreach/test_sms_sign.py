"""The SMS channel's percent-encoding (one str.translate) is exactly urllib's quote(s, safe="~"), the encoding
Aliyun's signature is defined on; the gateway of the tests checks signatures with urllib's decoding."""

from __future__ import annotations

import urllib.parse

from hypothesis import given
from hypothesis import strategies as st

from winback.outreach.channels.sms import canonical, pct, signature


@given(st.text())
def test_pct_is_urllib_quote(s: str) -> None:
    assert pct(s) == urllib.parse.quote(s, safe="~")


@given(st.dictionaries(st.text(min_size=1), st.text(), max_size=6))
def test_signature_is_the_documented_one(params: dict[str, str]) -> None:
    q = lambda x: urllib.parse.quote(x, safe="~")  # noqa: E731
    canon = "&".join(f"{q(k)}={q(v)}" for k, v in sorted(params.items()))
    assert canonical(params) == canon
    assert signature(params, "s") == signature(params, "s", canon=canon)
    assert dict(urllib.parse.parse_qsl(canon, keep_blank_values=True)) == params
