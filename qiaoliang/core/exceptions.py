"""Domain exceptions, mapped to messages and HTTP codes in one place (views and API)."""

from __future__ import annotations


class DomainError(Exception):
    """Raise for a business rule a request broke; the message is shown to the user as is."""

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NotAllowedError(DomainError):
    """Raise when the acting user may see the object but not do this to it."""

    status_code = 403
