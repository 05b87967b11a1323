"""The demo brand's default parameters (no numpy: the CLI shows them in `winback demo --help`)."""

from __future__ import annotations

import datetime as dt

DEFAULT_END = dt.date(2026, 11, 20)
DEFAULT_MEMBERS = 200_000
DEFAULT_YEARS = 3
DEFAULT_SEED = 20261120
