"""The web room's SQL: users, sessions, login attempts, the audit log, and who owns a member (for the row-level
rules). Every function takes the warehouse first; a write and its audit entry share one transaction."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from winback.web.types import AuditEntry, MemberOwner, User


class Warehouse(Protocol):
    """The part of the app's DuckDBEngine this module uses (the web room imports no engine)."""

    def execute(self, sql: str, params: Sequence[object] | None = None) -> None: ...
    def fetchall(self, sql: str, params: Sequence[object] | None = None) -> list[tuple[Any, ...]]: ...
    def fetchone(self, sql: str, params: Sequence[object] | None = None) -> tuple[Any, ...] | None: ...
    def scalar(self, sql: str, params: Sequence[object] | None = None) -> Any: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None: ...
    def transaction(self) -> AbstractContextManager[Any]: ...


_USER_COLUMNS = "username, role, stores, guide_id, created_at, disabled_at"


def _user(row: tuple[Any, ...]) -> User:
    return User(row[0], row[1], list(row[2] or []), row[3], row[4], row[5])


# -- users -------------------------------------------------------------------------------------------------------------
def get_user(db: Warehouse, username: str) -> User | None:
    row = db.fetchone(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", [username])
    return _user(row) if row else None


def password_hash(db: Warehouse, username: str) -> str | None:
    """The stored hash of an active user (None: no such user, or disabled)."""
    row = db.fetchone("SELECT password_hash FROM users WHERE username = ? AND disabled_at IS NULL", [username])
    return str(row[0]) if row else None


def list_users(db: Warehouse) -> list[User]:
    return [_user(r) for r in db.fetchall(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username")]


def insert_user(db: Warehouse, user: User, hashed: str, *, now: dt.datetime, actor: str) -> bool:
    """Add a user and its audit entry; False (nothing written) if the name is taken."""
    with db.transaction():
        if db.scalar("SELECT count(*) FROM users WHERE username = ?", [user.username]):
            return False
        db.execute(
            "INSERT INTO users (username, role, stores, guide_id, password_hash, created_at, password_set_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [user.username, user.role, user.stores or None, user.guide_id, hashed, now, now],
        )
        _audit(db, at=now, username=actor, role=None, action="user_add", target=user.username,
               detail={"role": user.role, "stores": user.stores, "guide_id": user.guide_id}, ip=None)  # fmt: skip
    return True


def disable_user(db: Warehouse, username: str, *, now: dt.datetime, actor: str) -> int:
    """Disable a user and revoke every live session; returns the sessions revoked."""
    with db.transaction():
        db.execute("UPDATE users SET disabled_at = coalesce(disabled_at, ?) WHERE username = ?", [now, username])
        revoked = _revoke_all(db, username, now)
        _audit(db, at=now, username=actor, role=None, action="user_disable", target=username,
               detail={"sessions_revoked": revoked}, ip=None)  # fmt: skip
    return revoked


def set_password(db: Warehouse, username: str, hashed: str, *, now: dt.datetime, actor: str) -> int:
    """A new password (re-enables a disabled user); every old session is revoked. Returns the sessions revoked."""
    with db.transaction():
        db.execute(
            "UPDATE users SET password_hash = ?, password_set_at = ?, disabled_at = NULL WHERE username = ?",
            [hashed, now, username],
        )
        revoked = _revoke_all(db, username, now)
        _audit(db, at=now, username=actor, role=None, action="user_reset", target=username,
               detail={"sessions_revoked": revoked}, ip=None)  # fmt: skip
    return revoked


def rehash(db: Warehouse, username: str, hashed: str) -> None:
    """Store a stronger hash of the same password (argon2 parameters raised since it was set)."""
    db.execute("UPDATE users SET password_hash = ? WHERE username = ?", [hashed, username])


def _revoke_all(db: Warehouse, username: str, now: dt.datetime) -> int:
    n = int(db.scalar("SELECT count(*) FROM sessions WHERE username = ? AND revoked_at IS NULL", [username]) or 0)
    db.execute("UPDATE sessions SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL", [now, username])
    return n


# -- sessions and login attempts ---------------------------------------------------------------------------------------
def open_session(
    db: Warehouse,
    *,
    token_hash: str,
    user: User,
    csrf_token: str,
    now: dt.datetime,
    expires_at: dt.datetime,
    ip: str | None,
    user_agent: str | None,
) -> None:
    """Record a successful login: the attempt, the session, and the audit entry, together."""
    with db.transaction():
        db.execute(
            "INSERT INTO login_attempts (username, ip, attempted_at, ok) VALUES (?, ?, ?, true)",
            [user.username, ip, now],
        )
        db.execute(
            "INSERT INTO sessions (token_hash, username, csrf_token, created_at, expires_at, ip, user_agent) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [token_hash, user.username, csrf_token, now, expires_at, ip, (user_agent or "")[:300]],
        )
        _audit(db, at=now, username=user.username, role=user.role, action="login", target=None, detail=None, ip=ip)


def failed_attempt(db: Warehouse, *, username: str, ip: str | None, now: dt.datetime) -> None:
    db.execute(
        "INSERT INTO login_attempts (username, ip, attempted_at, ok) VALUES (?, ?, ?, false)", [username, ip, now]
    )


def recent_failures(db: Warehouse, *, username: str, ip: str | None, since: dt.datetime) -> tuple[int, int]:
    """Failed logins since `since`: (for this user name after its last success, from this address)."""
    row = db.fetchone(
        """
        SELECT
          (SELECT count(*) FROM login_attempts a WHERE a.username = ? AND NOT a.ok AND a.attempted_at >= ?
             AND a.attempted_at >= coalesce(
                 (SELECT max(attempted_at) FROM login_attempts s WHERE s.username = ? AND s.ok), ?)),
          (SELECT count(*) FROM login_attempts a
             WHERE a.ip IS NOT DISTINCT FROM ? AND NOT a.ok AND a.attempted_at >= ?)
        """,
        [username, since, username, since, ip, since],
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


def session_user(db: Warehouse, token_hash: str, now: dt.datetime) -> tuple[User, str, dt.datetime] | None:
    """(user, csrf token, expiry) of a live session of an active user, else None."""
    row = db.fetchone(
        f"""
        SELECT {", ".join("u." + c.strip() for c in _USER_COLUMNS.split(","))}, s.csrf_token, s.expires_at
        FROM sessions s JOIN users u USING (username)
        WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.disabled_at IS NULL
        """,
        [token_hash, now],
    )
    return (_user(row[:6]), str(row[6]), row[7]) if row else None


def close_session(db: Warehouse, token_hash: str, *, user: User, now: dt.datetime, ip: str | None) -> None:
    with db.transaction():
        db.execute("UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL", [now, token_hash])
        _audit(db, at=now, username=user.username, role=user.role, action="logout", target=None, detail=None, ip=ip)


# -- the audit log -----------------------------------------------------------------------------------------------------
_AUDIT_COLUMNS = "(logged_at, username, role, action, target, detail, ip)"


def _audit(
    db: Warehouse,
    *,
    at: dt.datetime,
    username: str,
    role: str | None,
    action: str,
    target: str | None,
    detail: dict[str, Any] | None,
    ip: str | None,
) -> None:
    db.execute(
        f"INSERT INTO audit_log {_AUDIT_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?)",
        [at, username, role, action, target, json.dumps(detail, ensure_ascii=False) if detail else None, ip],
    )


def audit(
    db: Warehouse,
    *,
    at: dt.datetime,
    username: str,
    role: str | None,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """One audit entry (a write, an export, a phone reveal: who, when, what, from where)."""
    _audit(db, at=at, username=username, role=role, action=action, target=target, detail=detail, ip=ip)


_AUDIT_LISTED = (
    "SELECT unnest(?::TIMESTAMP[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
    "unnest(?::VARCHAR[]), unnest(?::VARCHAR[])::JSON, unnest(?::VARCHAR[])"
)


def audit_rider(entries: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """Several audit entries (each a dict of audit()'s fields) as one INSERT and its parameters (one list per
    column: no Arrow table to register), for a caller that writes it in its own transaction (a till round:
    `mark_winners`' rider)."""
    columns = [[e["at"] for e in entries], [e["username"] for e in entries], [e.get("role") for e in entries],
               [e["action"] for e in entries], [e.get("target") for e in entries],
               [json.dumps(e["detail"], ensure_ascii=False) if e.get("detail") else None for e in entries],
               [e.get("ip") for e in entries]]  # fmt: skip
    return f"INSERT INTO audit_log {_AUDIT_COLUMNS} {_AUDIT_LISTED}", columns


def audit_entries(db: Warehouse, *, limit: int = 100, action: str | None = None) -> Iterator[AuditEntry]:
    where, params = ("WHERE action = ?", [action]) if action else ("", [])
    rows = db.fetchall(
        f"SELECT audit_id, logged_at, username, role, action, target, detail, ip FROM audit_log {where} "
        f"ORDER BY audit_id DESC LIMIT {int(limit)}",
        params,
    )
    for r in rows:
        yield AuditEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], json.loads(r[6]) if r[6] else None, r[7])


# -- who owns a member (row-level rules) -------------------------------------------------------------------------------
def member_owner(db: Warehouse, member_id: str) -> MemberOwner | None:
    """The member's home store and exclusive guide (members table, current record) and the phone as stored."""
    row = db.fetchone(
        "SELECT member_id, store_id, guide_id, phone, name FROM members WHERE member_id = ? AND merged_into IS NULL",
        [member_id],
    )
    return MemberOwner(*row) if row else None


def task_owner(db: Warehouse, task_id: str) -> tuple[str | None, str | None] | None:
    """(guide_id, store_id) of a guide task (docs/CONTRACTS.md: tasks), or None if there is no such task."""
    row = db.fetchone("SELECT guide_id, store_id FROM tasks WHERE task_id = ?", [task_id])
    return (row[0], row[1]) if row else None


def snapshot_dates(db: Warehouse) -> list[Any]:
    """The as-of dates of the stored snapshots, oldest first (for the overview's transitions)."""
    return [r[0] for r in db.fetchall("SELECT DISTINCT as_of FROM snapshot_runs ORDER BY as_of")]
