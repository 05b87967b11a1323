"""`UsersService(wb)`: console users (add, list, disable, reset), logins with throttling, sessions, the audit log.

Throttling: after `MAX_USER_FAILURES` failed logins for one user name (since its last success) or
`MAX_IP_FAILURES` from one address within `THROTTLE_WINDOW`, further attempts are refused (HTTP 429) until the
window has passed, without checking the password; attempts are stored, so a restart forgets nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from winback.i18n import _
from winback.web import passwords, store_users
from winback.web.errors import InputError, NotFoundError, Throttled, Unauthenticated
from winback.web.types import ROLES, AuditLog, Login, Session, User, UserChange, UserList

if TYPE_CHECKING:
    from winback.app import Winback

SESSION_HOURS = 12
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_USER_FAILURES = 5
MAX_IP_FAILURES = 30
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class Caller:
    """Where a request came from (for the audit log and the per-address throttle)."""

    ip: str | None = None
    user_agent: str | None = None


class UsersService:
    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    # -- the users command ---------------------------------------------------------------------------------------------
    def add(
        self,
        username: str,
        *,
        role: str,
        password: str,
        stores: Sequence[str] = (),
        guide_id: str | None = None,
        actor: str = "cli",
    ) -> UserChange:
        user = check_user(username, role, list(stores), guide_id)
        check_password(password)
        db = self.wb.db()
        if not store_users.insert_user(db, user, passwords.hash_password(password), now=self.wb.now(), actor=actor):
            raise InputError(
                _("user {username} already exists", username=username),
                hint=_("Choose another name, or reset the password with `winback users reset`."),
            )
        return UserChange("add", self._get(username))

    def list(self) -> UserList:
        return UserList(store_users.list_users(self.wb.db()))

    def disable(self, username: str, *, actor: str = "cli") -> UserChange:
        self._get(username)
        revoked = store_users.disable_user(self.wb.db(), username, now=self.wb.now(), actor=actor)
        return UserChange("disable", self._get(username), revoked)

    def reset(self, username: str, *, password: str, actor: str = "cli") -> UserChange:
        self._get(username)
        check_password(password)
        hashed = passwords.hash_password(password)
        revoked = store_users.set_password(self.wb.db(), username, hashed, now=self.wb.now(), actor=actor)
        return UserChange("reset", self._get(username), revoked)

    def audit(self, *, limit: int = 100, action: str | None = None) -> AuditLog:
        return AuditLog(list(store_users.audit_entries(self.wb.db(), limit=limit, action=action)))

    def _get(self, username: str) -> User:
        user = store_users.get_user(self.wb.db(), username)
        if user is None:
            raise NotFoundError(
                _("no user {username}", username=username), hint=_("`winback users list` shows the users.")
            )
        return user

    # -- logins and sessions -------------------------------------------------------------------------------------------
    def login(self, username: str, password: str, caller: Caller) -> Login:
        """Check the password (unless throttled) and open a session; a wrong name or password is one error."""
        db, now = self.wb.db(), self.wb.now()
        by_user, by_ip = store_users.recent_failures(db, username=username, ip=caller.ip, since=now - THROTTLE_WINDOW)
        if by_user >= MAX_USER_FAILURES or by_ip >= MAX_IP_FAILURES:
            minutes = max(1, (int(THROTTLE_WINDOW.total_seconds()) + 59) // 60)
            raise Throttled(
                _("too many failed logins: try again in {minutes} minutes", minutes=minutes),
                hint=_(
                    "Repeated failures lock the user name and address for a while; an HQ admin can run "
                    "`winback users reset`."
                ),
                retry_after=int(THROTTLE_WINDOW.total_seconds()),
            )
        stored = store_users.password_hash(db, username)
        if not passwords.verify_password(stored, password):
            store_users.failed_attempt(db, username=username, ip=caller.ip, now=now)
            raise Unauthenticated(
                _("wrong user name or password"),
                hint=_("Check the case; if you forgot it, ask an HQ admin to run `winback users reset`."),
            )
        assert stored is not None
        if passwords.needs_rehash(stored):
            store_users.rehash(db, username, passwords.hash_password(password))
        user = self._get(username)
        token, csrf = passwords.new_token(), passwords.new_token()
        expires = now + dt.timedelta(hours=SESSION_HOURS)
        store_users.open_session(db, token_hash=passwords.token_hash(token), user=user, csrf_token=csrf, now=now,
                                 expires_at=expires, ip=caller.ip, user_agent=caller.user_agent)  # fmt: skip
        return Login(user, token, csrf, expires)

    def session(self, token: str | None) -> Session | None:
        """The live session of a (verified) token, or None."""
        if not token:
            return None
        found = store_users.session_user(self.wb.db(), passwords.token_hash(token), self.wb.now())
        return Session(found[0], found[1], found[2]) if found else None

    def logout(self, token: str, user: User, caller: Caller) -> UserChange:
        store_users.close_session(self.wb.db(), passwords.token_hash(token), user=user, now=self.wb.now(), ip=caller.ip)
        return UserChange("logout", user, 1)

    def record(self, user: User, action: str, target: str | None, caller: Caller, **detail: object) -> None:
        """An audit entry for something a user did (a reveal, an export, a write)."""
        store_users.audit(self.wb.db(), at=self.wb.now(), username=user.username, role=user.role, action=action,
                          target=target, detail=dict(detail) or None, ip=caller.ip)  # fmt: skip


def check_user(username: str, role: str, stores: list[str], guide_id: str | None) -> User:
    """The user to add, checked (pure): a known role, a store manager with stores, a guide with her guide id."""
    if not _NAME.match(username):
        raise InputError(
            _("user name {username!r} cannot be used", username=username),
            hint=_("Use 1–64 letters, digits, dots, underscores or dashes."),
        )
    if role not in ROLES:
        raise InputError(
            _("unknown role {role}", role=role), hint=_("The role is one of hq_admin, analyst, store_manager, guide.")
        )
    if role == "store_manager" and not stores:
        raise InputError(
            _("a store manager needs --store"), hint=_("E.g. `winback users add li --role store_manager --store S01`.")
        )
    if role == "guide" and not guide_id:
        raise InputError(
            _("a guide needs --guide"),
            hint=_("E.g. `winback users add wang --role guide --guide G0001` (the staff table's guide_id)."),
        )
    return User(username, role, stores, guide_id if role == "guide" else None)


def check_password(password: str) -> None:
    if len(password) < passwords.MIN_PASSWORD:
        raise InputError(
            _("the password needs at least {n} characters", n=passwords.MIN_PASSWORD),
            hint=_("Pass a longer one on standard input (--password-stdin)."),
        )
