"""The web console's errors: each carries its HTTP status and a message key of labels.MESSAGES, so the shell can
say it in the caller's language (the message and hint stored on the exception are the English ones)."""

from __future__ import annotations

from typing import Any

from winback import errors as base
from winback.errors import WinbackError
from winback.web.labels import message


class WebError(WinbackError):
    status = 400

    def __init__(self, key: str, **fields: Any) -> None:
        msg, hint = message(key, "en", **fields)
        super().__init__(msg, hint=hint)
        self.key, self.fields = key, fields

    def localized(self, lang: str) -> tuple[str, str]:
        return message(self.key, lang, **self.fields)


class Unauthenticated(WebError):
    status = 401


class Forbidden(WebError):
    status = 403


class Throttled(WebError):
    status = 429

    def __init__(self, key: str, *, retry_after: int, **fields: Any) -> None:
        super().__init__(key, minutes=max(1, (retry_after + 59) // 60), **fields)
        self.retry_after = retry_after


class NotFoundError(WebError, base.NotFoundError):
    """A user or member that does not exist (the type name is the CLI's: NotFoundError)."""

    status = 404


class InputError(WebError, base.InputError):
    """A bad user name, role, password (the type name is the CLI's: InputError)."""

    status = 400
