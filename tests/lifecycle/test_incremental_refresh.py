"""Issue 14: the incremental refresh gives exactly the full rebuild, and every past snapshot reads as it was built.

Random sequences of real imports (new orders, late orders, status changes, member record changes), identity
merges and undos (the identity room's own apply / undo), and refreshes at advancing as-of dates run on two
warehouses: A refreshes incrementally, B rebuilds in full every time. After every refresh the snapshots (every
column), the segments and the member facts agree; at the end every snapshot A built earlier still reads exactly
as it did the day it was built (history without copies).
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from winback.engine.duckdb_engine import DuckDBEngine
from winback.identity.store_merge import apply_run, undo_last
from winback.ingest import import_file
from winback.lifecycle.refresh import refresh
from winback.warehouse import connect

O_HEADER = ["订单号", "会员卡号", "下单时间", "实付金额", "订单状态"]
M_HEADER = ["member_id", "register_date", "tier", "store_id"]
START = dt.date(2024, 1, 1)
FIRST_AS_OF = dt.date(2024, 3, 1)
N_MEMBERS = 6

order_st = st.tuples(st.integers(0, N_MEMBERS - 1), st.integers(0, 200), st.integers(1, 400), st.booleans())
step_st = st.one_of(
    st.tuples(st.just("orders"), st.lists(order_st, min_size=1, max_size=6)),
    st.tuples(st.just("status"), st.integers(0, 1000)),
    st.tuples(st.just("member"), st.integers(0, N_MEMBERS - 1), st.sampled_from(["VIP", "regular", "gold"])),
    st.tuples(st.just("merge"), st.integers(0, N_MEMBERS - 1), st.integers(0, N_MEMBERS - 1)),
    st.tuples(st.just("undo")),
    st.tuples(st.just("refresh"), st.integers(0, 45)),
)


class Brand:
    """Two warehouses receiving the same imports and merges."""

    def __init__(self, root: Path, n_members: int = N_MEMBERS) -> None:
        self.root = root
        self.n_members = n_members
        self.dbs = [DuckDBEngine(connect(root / "incremental.duckdb")), DuckDBEngine(connect(root / "full.duckdb"))]
        self.orders: list[list[str]] = []  # every order row imported, as last imported
        self.files = 0
        self.runs = 0

    def _csv(self, header: list[str], rows: list[list[str]]) -> Path:
        self.files += 1
        path = self.root / f"f{self.files}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        return path

    def imports(self, kind: str, header: list[str], rows: list[list[str]]) -> None:
        path = self._csv(header, rows)
        for db in self.dbs:
            import_file(db, kind, path)

    def members(self) -> None:
        rows = [
            [f"M{i}", (START + dt.timedelta(days=i % 40)).isoformat(), "regular", "S1"] for i in range(self.n_members)
        ]
        self.imports("members", M_HEADER, rows)

    def add_orders(self, orders: list[tuple[int, int, int, bool]]) -> None:
        rows = []
        for member, day, amount, paid in orders:
            at = dt.datetime.combine(START, dt.time(10)) + dt.timedelta(days=day)
            rows.append(
                [f"T{len(self.orders)}", f"M{member}", at.isoformat(" "), str(amount), "交易成功" if paid else "已取消"]
            )
            self.orders.append(rows[-1])
        self.imports("orders", O_HEADER, rows)

    def flip_status(self, pick: int) -> None:
        if not self.orders:
            return
        row = list(self.orders[pick % len(self.orders)])
        row[4] = "已取消" if row[4] == "交易成功" else "交易成功"
        self.orders[pick % len(self.orders)] = row
        self.imports("orders", O_HEADER, [row])

    def change_member(self, member: int, tier: str) -> None:
        reg = (START + dt.timedelta(days=member % 40)).isoformat()
        self.imports("members", M_HEADER, [[f"M{member}", reg, tier, "S2" if tier == "gold" else "S1"]])

    def merge(self, survivor: int, dup: int) -> None:
        if survivor == dup:
            return
        self.runs += 1
        for db in self.dbs:
            db.execute(
                "INSERT INTO identity_runs VALUES (?, current_timestamp::TIMESTAMP, 0.9, 1, 0, 0, 1, 1, 0, NULL)",
                [self.runs],
            )
            db.execute(
                "INSERT INTO identity_clusters VALUES (?, ?, ?, true), (?, ?, ?, false)",
                [self.runs, f"M{survivor}", f"M{survivor}", self.runs, f"M{survivor}", f"M{dup}"],
            )
            apply_run(db, self.runs)

    def undo(self) -> None:
        for db in self.dbs:
            if db.fetchall("SELECT count(*) FROM identity_merges WHERE undone_at IS NULL")[0][0]:
                undo_last(db)

    def write(self, step: tuple[Any, ...]) -> bool:
        """Apply a drawn step (step_st) that writes to the warehouses; False for a ("refresh", days) step, which
        the caller runs and checks."""
        kind = step[0]
        if kind == "orders":
            self.add_orders(step[1])
        elif kind == "status":
            self.flip_status(step[1])
        elif kind == "member":
            self.change_member(step[1], step[2])
        elif kind == "merge":
            self.merge(step[1], step[2])
        elif kind == "undo":
            self.undo()
        else:
            return False
        return True


def snapshot(db: DuckDBEngine, as_of: dt.date) -> list[tuple[Any, ...]]:
    return db.fetchall("SELECT * FROM member_snapshot WHERE as_of = ? ORDER BY member_id", [as_of])


def segments(db: DuckDBEngine, as_of: dt.date) -> list[tuple[Any, ...]]:
    return db.fetchall("SELECT scheme, member_id, segment FROM member_segments WHERE as_of = ? ORDER BY ALL", [as_of])


@given(steps=st.lists(step_st, min_size=1, max_size=7))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_incremental_equals_full_and_history_reads_back(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        brand = Brand(Path(tmp))
        brand.members()
        brand.add_orders([(i % N_MEMBERS, 5 * i, 100 + i, True) for i in range(8)])
        as_of, built = FIRST_AS_OF, {}
        for step in [*steps, ("refresh", 1)]:
            if not brand.write(step):
                as_of += dt.timedelta(days=step[1])
                a, b = brand.dbs
                inc = refresh(a, a, as_of, refit_change=-1.0)  # refit every time: the fits must agree too
                full = refresh(b, b, as_of, full=True)
                assert full.facts and full.facts["mode"] == "full"
                assert inc.segments == full.segments
                assert snapshot(a, as_of) == snapshot(b, as_of)
                assert segments(a, as_of) == segments(b, as_of)
                built[as_of] = (snapshot(a, as_of), segments(a, as_of))
        a = brand.dbs[0]
        assert a.fetchall("SELECT count(*) FROM snapshot_runs")[0][0] == len(built)
        for day, (rows, segs) in built.items():
            assert snapshot(a, day) == rows, f"the snapshot at {day} no longer reads as it was built"
            assert segments(a, day) == segs
        # after the first date every refresh was incremental (the first date itself too, when refreshed again)
        modes = a.fetchall("SELECT json_extract_string(settings, '$.facts.mode') FROM snapshot_runs ORDER BY as_of")
        assert {m for (m,) in modes[1:]} <= {"incremental"}
        for db in brand.dbs:
            db.close()


def test_a_day_of_orders_touches_only_its_members(tmp_path: Path, english: None) -> None:
    """After a day's import only the members with new orders get new fact versions; everybody else keeps theirs,
    and the fit is reused (refit weekly or past the change threshold) and named."""
    brand = Brand(tmp_path, 60)
    brand.members()
    brand.add_orders([((7 * i) % 60, (13 * i) % 88, 50 + i % 90, True) for i in range(400)])
    a = brand.dbs[0]
    first = refresh(a, a, dt.date(2024, 4, 1))
    assert first.facts == {"mode": "full", "reason": "first", "changed_members": None}
    assert first.fit and first.fit["refit"]
    brand.add_orders([(1, 91, 70, True), (2, 91, 80, True)])  # 2024-04-01: counted from 2024-04-02
    second = refresh(a, a, dt.date(2024, 4, 2), refit_change=0.5)
    assert second.facts == {"mode": "incremental", "reason": "changed", "changed_members": 2}
    assert second.fit == {"as_of": "2024-04-01", "refit": False, "reason": "reuse"}
    versions = dict(a.fetchall("SELECT member_id, count(*) FROM member_facts GROUP BY 1"))
    assert versions == {f"M{i}": 2 if i in (1, 2) else 1 for i in range(60)}
    assert any("reused" in n for n in second.notes)
    # the older snapshot is unchanged: M1's facts at 2024-04-01 do not count the new order
    old = a.fetchall("SELECT orders FROM member_snapshot WHERE as_of = DATE '2024-04-01' AND member_id = 'M1'")
    new = a.fetchall("SELECT orders FROM member_snapshot WHERE as_of = DATE '2024-04-02' AND member_id = 'M1'")
    assert new[0][0] == old[0][0] + 1
    for db in brand.dbs:
        db.close()
