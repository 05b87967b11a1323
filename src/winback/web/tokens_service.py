"""`TokensService(wb)`: the tills' per-store API tokens (`winback tokens add|list|revoke`) and the till's one call,
redeeming a coupon (`POST /api/coupons/{code}/redeem`, docs/web.md "The tills").

A token is shown once when made; the warehouse keeps only its SHA-256 (a copy of the file gives no usable token).
A till's request carries it as `Authorization: Bearer <token>`; the token names its store, and a till redeems only
at its own store. The redemption itself is the campaigns room's one rule, settled with the other tills' in a
round (web/till_batch.py: `wb.coupons.redeem_attempts`, exactly once even when two tills race), with the brand's
now and the request's language; every attempt, redeemed or refused, is written to the audit log (who:
`till:<token id>`, what: the code, the order and store, and the answer)."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from winback import errors as base
from winback.campaigns.coupons import display, validate
from winback.errors import WinbackError
from winback.i18n import _
from winback.web import store_tokens
from winback.web.errors import WebError
from winback.web.passwords import new_token, token_hash
from winback.web.store_tokens import TillToken, TokenAdded, TokenList, TokenRevoked
from winback.web.store_users import audit
from winback.web.till_batch import Ask

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.campaigns.types import RedeemResult
    from winback.web.store_users import Warehouse
    from winback.web.till_batch import Redeemer
    from winback.web.users_service import Caller


class LiveTokens:
    """The live tokens seen lately: (warehouse, token hash) -> (its TillToken, when read), so a till's request
    costs no database read for its token. Revocation is honoured at once: every revocation goes through
    `TokensService.revoke` in the process that holds the warehouse (the server; `winback tokens revoke` while it
    runs is sent to it), which empties the cache; an entry is also read again after `TTL` seconds, whatever
    else changed the table. Unknown tokens are never kept (a forged token is looked up each time)."""

    TTL = 10.0

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[TillToken, float]] = {}
        self._guard = threading.Lock()
        self._generation = 0  # +1 at each forget: a read begun before a revocation is not kept after it

    def get(self, db_path: object, hashed: str, db: Callable[[], Warehouse]) -> TillToken | None:
        key, now = (str(db_path), hashed), time.monotonic()
        with self._guard:
            seen, generation = self._seen.get(key), self._generation
        if seen is not None and now - seen[1] < self.TTL:
            return seen[0]
        found = store_tokens.active_token(db(), hashed)
        with self._guard:
            if found is None or generation != self._generation:
                self._seen.pop(key, None)
            elif len(self._seen) < 10_000:
                self._seen[key] = (found, now)
        return found

    def cached(self, db_path: object, hashed: str) -> TillToken | None:
        """The live token if it was read less than `TTL` seconds ago, else None (no database read)."""
        with self._guard:
            seen = self._seen.get((str(db_path), hashed))
        return seen[0] if seen is not None and time.monotonic() - seen[1] < self.TTL else None

    def forget(self) -> None:
        with self._guard:
            self._seen.clear()
            self._generation += 1


LIVE = LiveTokens()


class TillUnauthenticated(WebError):
    status = 401


class TillForbidden(WebError):
    status = 403


class TillNotFound(WebError, base.NotFoundError):
    status = 404


class TillInputError(WebError, base.InputError):
    status = 400


def shown(code: str) -> str:
    """The code as the audit log keeps it: displayed like the redemption's answer (a malformed one as given)."""
    try:
        return display(validate(code))
    except WinbackError:
        return code[:64]


def bearer_of(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


class TokensService:
    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    def add(self, store_id: str, *, label: str | None = None, actor: str = "cli") -> TokenAdded:
        """A new token for the tills of `store_id` (a store of the brand); the token is returned this once."""
        db = self.wb.db()
        store_id = store_id.strip()
        if not store_id or not store_tokens.store_exists(db, store_id):
            raise TillNotFound(
                _("unknown store {store_id!r}", store_id=store_id),
                hint=_("Give a store id of the brand (winback import stores … loads them)."),
            )
        token, note = new_token(), (label or "").strip() or None
        till = store_tokens.insert_token(db, token_hash=token_hash(token), store_id=store_id, label=note,
                                         now=self.wb.now(), actor=actor)  # fmt: skip
        return TokenAdded(token, till)

    def list(self, *, store_id: str | None = None) -> TokenList:
        return TokenList(store_tokens.list_tokens(self.wb.db(write=False), store_id=store_id))

    def revoke(self, token_id: str, *, actor: str = "cli") -> TokenRevoked:
        """Revoke a token by its id (as `tokens list` shows it); revoking it again changes nothing."""
        db = self.wb.db()
        found = store_tokens.tokens_by_id(db, token_id.strip()) if token_id.strip() else []
        if not found:
            raise TillNotFound(
                _("no token {token_id!r}", token_id=token_id), hint=_("`winback tokens list` shows each token's id.")
            )
        if len(found) > 1:
            raise TillInputError(
                _("token id {token_id!r} matches several tokens", token_id=token_id),
                hint=_("Give the full 12-character id shown by `winback tokens list`."),
            )
        if found[0].revoked_at is not None:
            return TokenRevoked(found[0], already=True)
        store_tokens.revoke_token(db, found[0].token_id, now=self.wb.now(), actor=actor)
        LIVE.forget()
        return TokenRevoked(store_tokens.tokens_by_id(db, found[0].token_id)[0], already=False)

    def till(self, authorization: str | None) -> TillToken:
        """The live token of a request's Authorization header (401 without one, or with an unknown/revoked one)."""
        token = bearer_of(authorization)
        if token is None:
            raise TillUnauthenticated(
                _("no till token"),
                hint=_(
                    "Send Authorization: Bearer <token> (an HQ admin makes one with `winback tokens add --store S`)."
                ),
            )
        found = LIVE.get(self.wb.settings.db_path, token_hash(token), self.wb.db)
        if found is None:
            raise TillUnauthenticated(
                _("the till token is unknown or revoked"),
                hint=_("Ask HQ for a new token (`winback tokens add --store S`) and update the till's settings."),
            )
        return found

    def ready_ask(
        self, authorization: str | None, code: str, *, order_id: str, store_id: str, lang: str, caller: Caller
    ) -> Ask | None:
        """The round's ask of a till's request that needs nothing but the round (an async route awaits it): its
        token live in the cache, its own store, a well-formed code. None otherwise: `till` and `redeem_with`
        then answer it (the token read from the warehouse, the 401/403/400 refusals audited)."""
        token = bearer_of(authorization)
        till = None if token is None else LIVE.cached(self.wb.settings.db_path, token_hash(token))
        if till is None or not hmac.compare_digest(store_id.encode(), till.store_id.encode()):
            return None
        try:
            normalised = validate(code)
        except WinbackError:
            return None
        return Ask(till, normalised, order_id, store_id, lang, caller.ip)

    def redeem_with(
        self, redeemer: Redeemer, till: TillToken, code: str, *, order_id: str, store_id: str, caller: Caller
    ) -> RedeemResult:
        """Redeem `code` on `order_id` at `store_id` for this till, settled in the next round of `redeemer`
        together with the other tills' (web/till_batch.py): the campaigns room's one rule at the brand's now, the
        redeemed coupon or its typed refusal raised, in the request's language, audited either way. A wrong store
        (403) or a malformed code is refused here at once."""
        try:
            if not hmac.compare_digest(store_id.encode(), till.store_id.encode()):
                raise TillForbidden(
                    _(
                        "this token belongs to store {token_store}; it cannot redeem for store {store_id}",
                        token_store=till.store_id,
                        store_id=store_id,
                    ),
                    hint=_("Each store's tills use their own store's token: check the till's store id and token."),
                )
            normalised = validate(code)
        except WinbackError as exc:
            detail = {"order_id": order_id, "store_id": store_id, "token_store": till.store_id, "ok": False,
                      "refused": type(exc).__name__}  # fmt: skip
            audit(self.wb.db(), at=self.wb.now(), target=shown(code), detail=detail, username=f"till:{till.token_id}",
                  role="till", action="coupon_redeem", ip=caller.ip)  # fmt: skip
            raise
        return redeemer.redeem(Ask(till, normalised, order_id, store_id, self.wb.settings.lang, caller.ip))
