from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from winback.engine.duckdb_engine import DuckDBEngine
from winback.identity import planted
from winback.identity.store import insert_planted
from winback.warehouse import connect


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, planted.Planted]:
    """A warehouse holding 1,000 ERP members plus planted duplicates and their orders (built once per module)."""
    path = tmp_path_factory.mktemp("planted") / "planted.duckdb"
    data = planted.generate(1000, seed=11)
    con = connect(path)
    insert_planted(DuckDBEngine(con), data)
    con.close()
    return path, data


@pytest.fixture
def planted_con(planted_db: tuple[Path, planted.Planted], tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private, writable copy of the planted warehouse."""
    copy = tmp_path / "copy.duckdb"
    shutil.copy(planted_db[0], copy)
    con = connect(copy)
    yield con
    con.close()
