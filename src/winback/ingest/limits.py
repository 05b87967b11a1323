"""What the readers accept (pure): the bounds that keep a small hostile file from taking the machine (issue 15,
item 4). Each is checked before the part of the file it bounds is parsed; the message names the limit."""

from __future__ import annotations

#: columns of any file (a 10,000-column CSV exhausted DuckDB)
MAX_COLUMNS = 2_000
#: bytes a CSV's header line may have; the delimiter is sniffed on it, read as a bounded prefix (a 1 GiB
#: single-line file took 2.3 GB while sniffing)
MAX_HEADER_BYTES = 1 << 20
#: bytes of any CSV line (DuckDB's reader refuses longer lines; it keeps at most this much of one in memory)
MAX_LINE_BYTES = 1 << 20
