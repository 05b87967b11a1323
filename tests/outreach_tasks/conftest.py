"""Errors raised directly (not through the CLI, which sets the language itself) read in English in these tests; the
Chinese catalogue is checked by tests/test_i18n.py and by the CLI tests (zh by default)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from winback.i18n import using


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    with using("en"):
        yield
