"""Password hashing (Argon2id, argon2-cffi's defaults: RFC 9106 low-memory profile) and the session tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD = 8
_HASHER = PasswordHasher()
#: verified against when the user does not exist, so a wrong name costs as long as a wrong password
_DUMMY = _HASHER.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True if `password` matches `stored` (None: no such user; still spends the time of one check)."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the sessions table stores (a stolen database gives no usable cookie)."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign(token: str, secret: str) -> str:
    """The cookie value: the token and its HMAC under the web secret."""
    mac = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{token}.{mac}"


def unsign(value: str | None, secret: str) -> str | None:
    """The token of a cookie value whose signature holds, else None."""
    if not value or "." not in value:
        return None
    token, _, mac = value.rpartition(".")
    good = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()[:32]
    return token if hmac.compare_digest(mac, good) else None
