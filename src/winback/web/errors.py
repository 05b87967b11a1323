"""The web console's errors: each carries its HTTP status; messages come from the catalogue in the request's
language (the server sets it for the whole request)."""

from __future__ import annotations

from winback import errors as base
from winback.errors import WinbackError


class WebError(WinbackError):
    """An error with its HTTP status; its message and hint come from the catalogue (`_()` at the raise site, in
    the request's language)."""

    status = 400


class Unauthenticated(WebError):
    status = 401


class Forbidden(WebError):
    status = 403


class Throttled(WebError):
    status = 429

    def __init__(self, message: str, *, hint: str | None = None, retry_after: int) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class NotFoundError(WebError, base.NotFoundError):
    """A user or member that does not exist (the type name is the CLI's: NotFoundError)."""

    status = 404


class InputError(WebError, base.InputError):
    """A bad user name, role, password (the type name is the CLI's: InputError)."""

    status = 400
