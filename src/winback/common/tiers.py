"""Member tiers in the brand's rank order, not in Unicode order (pure).

The rank is the list in `winback/rules/tiers.toml` (lowest first); a tier it does not name follows the listed
ones, ranked by its members' mean spend when that is known (lowest first), else by name; members without a tier
(None or "") come first. `tier_order(seen, spend)` gives the order, `tier_rank(order)` a sort key.
`shipped_rules()`: the tiers as rules over lifetime net spend, when the file gives them (what the planner derives a
past date's tier from).
"""

from __future__ import annotations

import functools
import itertools
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources


@functools.cache
def _shipped() -> dict[str, object]:
    return tomllib.loads(resources.files("winback.rules").joinpath("tiers.toml").read_text(encoding="utf-8"))


def shipped_order() -> tuple[str, ...]:
    """The brand's tiers, lowest first, from winback/rules/tiers.toml."""
    return tuple(str(t) for t in _shipped().get("order", []))  # type: ignore[union-attr]


def shipped_rules() -> tuple[tuple[str, float], ...]:
    """(tier, lifetime net spend it starts at), lowest first, when rules/tiers.toml gives `min_spend` (one figure
    per tier of `order`, rising, the first 0); () when it does not, or when the figures do not fit the order."""
    order, spend = shipped_order(), _shipped().get("min_spend")
    if not isinstance(spend, list) or len(spend) != len(order) or not order:
        return ()
    values = [float(v) for v in spend]
    if values[0] != 0 or any(b <= a for a, b in itertools.pairwise(values)):
        return ()
    return tuple(zip(order, values, strict=True))


def tier_order(
    seen: Iterable[str | None], spend: Mapping[str, float] | None = None, ranks: Sequence[str] | None = None
) -> list[str | None]:
    """The tiers in `seen`, lowest first: no tier, then the listed ranks, then the others by mean spend and name."""
    ranks = shipped_order() if ranks is None else ranks
    present = set(seen)
    blank = [t for t in (None, "") if t in present]
    listed = [t for t in ranks if t in present]
    spend = spend or {}
    rest = sorted(
        (t for t in present if t not in listed and t not in (None, "")),
        key=lambda t: (spend.get(t, 0.0), t),  # type: ignore[arg-type]
    )
    return [*blank, *listed, *rest]


def tier_rank(order: Sequence[str | None]) -> Callable[[str | None], int]:
    """A sort key: the position of a tier in `order` (unknown tiers last)."""
    pos = {t: i for i, t in enumerate(order)}
    return lambda t: pos.get(t, len(pos))
