from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from winback.warehouse import connect


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "wb.duckdb"


@pytest.fixture
def con(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(db_path)
    yield c
    c.close()
