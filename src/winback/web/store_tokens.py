"""The tills' SQL: per-store API tokens (migration 010's `api_tokens`; only the SHA-256 of a token is stored) and
their typed rows. A write and its audit entry share one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from winback.common.results import Result
from winback.web.store_users import Warehouse, audit

#: a token is named by the first characters of its hash (never by the secret itself)
ID_LENGTH = 12


@dataclass(frozen=True)
class TillToken(Result):
    """A till's API token as stored: its id (the hash's first 12 hex digits), store, label, when made/revoked."""

    token_id: str
    store_id: str
    label: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class TokenAdded(Result):
    """`tokens add`: the bearer token, shown this once (only its hash is kept)."""

    token: str
    till: TillToken


@dataclass(frozen=True)
class TokenList(Result):
    tokens: list[TillToken] = field(default_factory=list)


@dataclass(frozen=True)
class TokenRevoked(Result):
    """`tokens revoke`: the token, and whether it was already revoked before (a retry changes nothing)."""

    till: TillToken
    already: bool


_COLUMNS = f"left(token_hash, {ID_LENGTH}), store_id, label, created_at, revoked_at"


def store_exists(db: Warehouse, store_id: str) -> bool:
    return bool(db.scalar("SELECT count(*) FROM stores WHERE store_id = ?", [store_id]))


def insert_token(
    db: Warehouse, *, token_hash: str, store_id: str, label: str | None, now: dt.datetime, actor: str
) -> TillToken:
    with db.transaction():
        db.execute(
            "INSERT INTO api_tokens (token_hash, store_id, label, created_at) VALUES (?, ?, ?, ?)",
            [token_hash, store_id, label, now],
        )
        till = TillToken(token_hash[:ID_LENGTH], store_id, label, now)
        audit(db, at=now, username=actor, role=None, action="token_add", target=till.token_id,
              detail={"store_id": store_id, "label": label})  # fmt: skip
    return till


def list_tokens(db: Warehouse, *, store_id: str | None = None) -> list[TillToken]:
    where, params = ("WHERE store_id = ?", [store_id]) if store_id else ("", [])
    rows = db.fetchall(f"SELECT {_COLUMNS} FROM api_tokens {where} ORDER BY store_id, created_at", params)
    return [TillToken(*r) for r in rows]


def tokens_by_id(db: Warehouse, token_id: str) -> list[TillToken]:
    """The tokens whose id starts with `token_id` (more than one: the id given is too short)."""
    rows = db.fetchall(f"SELECT {_COLUMNS} FROM api_tokens WHERE starts_with(token_hash, ?)", [token_id.lower()])
    return [TillToken(*r) for r in rows]


def revoke_token(db: Warehouse, token_id: str, *, now: dt.datetime, actor: str) -> None:
    """Revoke one token (by its full id) and audit it; a revoked one keeps its first revocation time."""
    with db.transaction():
        db.execute(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE starts_with(token_hash, ?)",
            [now, token_id],
        )
        audit(db, at=now, username=actor, role=None, action="token_revoke", target=token_id)


def active_token(db: Warehouse, token_hash: str) -> TillToken | None:
    """The live token with this hash (None: unknown or revoked)."""
    row = db.fetchone(f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", [token_hash])
    return TillToken(*row) if row else None
