from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, settings

from winback import i18n
from winback.warehouse import connect

# The machine running the suite (2 cores, often shared) makes wall-clock deadlines meaningless: no deadlines.
# In CI (CI=true) examples are derandomized so a run is reproducible; locally they vary, to keep finding bugs.
settings.register_profile(
    "winback",
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("winback")


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the default language (zh): the CLI's --lang sets it for the rest of the context."""
    with i18n.using(i18n.DEFAULT_LANG):
        yield


@pytest.fixture
def english() -> Iterator[None]:
    """Render messages in English for a test that asserts English wording."""
    with i18n.using("en"):
        yield


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "wb.duckdb"


@pytest.fixture
def con(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(db_path)
    yield c
    c.close()


@dataclass(frozen=True)
class DemoBrand:
    db_path: Path
    out_dir: Path
    truth_dir: Path
    summary: dict[str, Any]


@pytest.fixture(scope="session")
def demo_brand(tmp_path_factory: pytest.TempPathFactory) -> DemoBrand:
    """A small demo brand (8,000 ERP members, seed 7, history ending 2026-11-20), generated and imported once per
    test session through the app's demo service (`Winback(...).demo.run`).

    Read-only: the warehouse file is shared by every test that uses it. A test that writes must copy it first:
    `shutil.copy(demo_brand.db_path, tmp_path / "wb.duckdb")` and connect to the copy. `truth_dir` holds
    duplicates.parquet and members.parquet (docs/CONTRACTS.md); `summary` is run_demo's return value.
    """
    from winback.app import Winback
    from winback.config import Settings

    out = tmp_path_factory.mktemp("demo_brand")
    with Winback(Settings.load(environ={}, db_path=out / "winback.duckdb")) as wb:
        summary = wb.demo.run(out, members=8000, seed=7).to_dict()
    return DemoBrand(db_path=out / "winback.duckdb", out_dir=out, truth_dir=out / "truth", summary=summary)


@pytest.fixture
def db(con: duckdb.DuckDBPyConnection) -> Iterator[Any]:
    """The warehouse as winback's services see it: a DuckDBEngine over the `con` fixture's connection."""
    from winback.engine.duckdb_engine import DuckDBEngine

    yield DuckDBEngine(con)
