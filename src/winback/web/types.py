"""Typed results of the web room: users, sessions, the audit log, the caller's scope (pure: no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from winback.common.results import Result

ROLES = ("hq_admin", "analyst", "store_manager", "guide")
#: roles that see the whole brand (the HQ pages)
BRAND_ROLES = ("hq_admin", "analyst")


@dataclass(frozen=True)
class User(Result):
    """A console user (never carries the password hash out of the store)."""

    username: str
    role: str
    stores: list[str] = field(default_factory=list)
    guide_id: str | None = None
    created_at: dt.datetime | None = None
    disabled_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def sees_brand(self) -> bool:
        return self.role in BRAND_ROLES

    @property
    def may_reveal(self) -> bool:
        """Phones: never an analyst; the others within their scope."""
        return self.role != "analyst"

    @property
    def may_write(self) -> bool:
        return self.role != "analyst"


@dataclass(frozen=True)
class UserList(Result):
    users: list[User]


@dataclass(frozen=True)
class UserChange(Result):
    """What `users add|disable|reset` did."""

    action: str
    user: User
    sessions_revoked: int = 0


@dataclass(frozen=True)
class Session:
    """A live session: who, and the CSRF token bound to it."""

    user: User
    csrf_token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Login(Result):
    """A successful login: the cookie values the shell sets (the token is shown once, stored only hashed)."""

    user: User
    token: str
    csrf_token: str
    expires_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:  # what the API answers: never the session token itself
        return {"user": self.user.to_dict(), "csrf_token": self.csrf_token, "expires_at": self.expires_at.isoformat()}


@dataclass(frozen=True)
class AuditEntry(Result):
    audit_id: int
    at: dt.datetime
    username: str
    role: str | None
    action: str
    target: str | None
    detail: dict[str, Any] | None
    ip: str | None


@dataclass(frozen=True)
class AuditLog(Result):
    entries: list[AuditEntry]


@dataclass(frozen=True)
class MemberOwner:
    """Whose member this is (for the row-level rules) and the phone as stored."""

    member_id: str
    store_id: str | None
    guide_id: str | None
    phone: str | None
    name: str | None


@dataclass(frozen=True)
class PhoneReveal(Result):
    member_id: str
    phone: str
    name: str | None
