"""The AI-call channel: vendor-neutral call lists out, call results back in, through two folders.

`send` writes one CSV per batch, `calls-<batch>.csv` in `export_dir` (UTF-8 with BOM, so Excel opens it): key,
number, member, campaign, the script variables (text, code) and the callback window (`window`, e.g.
"10:00-20:00"). The file is written whole and renamed into place (a crash leaves no half list; the same batch
written twice is the same file). The touches stay `sending` (pending) until the vendor's results arrive.

`resolve` reads every CSV in `results_dir` with at least the columns key, connected (1/0, yes/no, true/false,
是/否), and optionally intent and duration (seconds): connected → delivered, not connected → failed
`unreachable`; the intent and duration go to the ledger's response. A touch with no result stays pending; one
whose batch file never appeared is not_sent (sent again).

[channels.ai_call]: export_dir, results_dir (required); window ("10:00-20:00"), batch_size (500).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from winback.common.export import private_file
from winback.outreach.channels.contract import NoFeedback
from winback.outreach.ledger import LedgerRow, SendResult

if TYPE_CHECKING:
    from winback.outreach.config import ChannelConfig

COLUMNS = ["key", "number", "member_id", "campaign_id", "text", "code", "callback_window"]
YES = frozenset({"1", "yes", "y", "true", "是", "接通", "connected"})


class AiCallChannel(NoFeedback):
    resolve_sends = False
    has_receipts = False
    has_inbound = False
    connections = 1
    rate_per_second = None

    def __init__(self, config: ChannelConfig) -> None:
        self.name = config.name
        self.export_dir = Path(str(config.require("export_dir")))
        self.results_dir = Path(str(config.require("results_dir")))
        self.window = str(config.get("window", "10:00-20:00"))
        self.batch_size = int(config.get("batch_size", 500))

    def _file(self, batch_id: str | None) -> Path:
        return self.export_dir / f"calls-{batch_id or 'none'}.csv"

    def send(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        self.export_dir.mkdir(parents=True, exist_ok=True)
        target = self._file(rows[0].batch_id)
        with private_file(target) as raw:  # 0600 whatever the umask (the list has full numbers), renamed into place
            f = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            w = csv.writer(f)
            w.writerow(COLUMNS)
            for r in rows:
                w.writerow([r.key, r.to, r.member_id, r.campaign_id or "", r.text, r.code or "", self.window])
            f.flush()
            f.detach()
        return [SendResult(r.key, "pending", provider_id=target.name, response="in the call list") for r in rows]

    def _results(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for p in sorted(self.results_dir.glob("*.csv")) if self.results_dir.exists() else []:
            with p.open(encoding="utf-8-sig", newline="") as f:
                for row in csv.DictReader(f):
                    if row.get("key"):
                        out[row["key"].strip()] = row
        return out

    def resolve(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        results, out = self._results(), []
        for r in rows:
            got = results.get(r.key)
            if got is None:
                exported = self._file(r.batch_id).exists()
                out.append(SendResult(r.key, "pending" if exported else "not_sent", response="no call result yet"))
                continue
            connected = str(got.get("connected", "")).strip().lower() in YES
            note = f"intent={got.get('intent', '')} duration={got.get('duration', '')}s"
            if connected:
                out.append(SendResult(r.key, "delivered", response=note[:300]))
            else:
                out.append(SendResult(r.key, "failed", reason="unreachable", response=note[:300]))
        return out
