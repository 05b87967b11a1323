from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from plan_helpers import NOW, PlannerBrand


@pytest.fixture(scope="session")
def planner_brand(demo_brand: Any, tmp_path_factory: pytest.TempPathFactory) -> PlannerBrand:
    """A copy of the demo brand with the lifecycle snapshots the planner needs (the period starts 2024-11-21 and
    2025-11-21), then the newest snapshot refreshed again so it stays the default."""
    from winback.app import Winback
    from winback.config import Settings

    db = tmp_path_factory.mktemp("planner") / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    with Winback(Settings.load(environ={}, db_path=Path(db), now=NOW)) as wb:
        for d in ("2024-11-21", "2025-11-21"):
            wb.lifecycle.refresh(as_of=dt.date.fromisoformat(d))
        wb.lifecycle.refresh()
    return PlannerBrand(str(db))
