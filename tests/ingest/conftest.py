"""Fixtures for ingest tests: write real export files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from ingest_util import write_csv


@pytest.fixture
def csv_writer(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(name: str, header: Sequence[str], rows: Sequence[Sequence[Any]], **kw: Any) -> Path:
        return write_csv(tmp_path / name, header, rows, **kw)

    return make
