"""The domain error tree. Each carries the HTTP status the API answers with (api/errors.py renders them).

DomainError (500 base; never raised itself for what a user can cause)
+-- BadRequest (400)
+-- Unauthorized (401)
+-- Forbidden (403)
+-- NotFound (404)    also for another tenant's object, so existence does not leak
+-- Conflict (409)
+-- PreconditionFailed (412)
+-- PayloadTooLarge (413)
+-- PreconditionRequired (428)    a change to a versioned object without If-Match
+-- TooManyRequests (429)    the key is over its rate; `retry_after` says when to come back
+-- ServiceUnavailable (503)    the API is saturated or the database does not answer in time; `retry_after` too
"""

from __future__ import annotations

from collections.abc import Set
from typing import ClassVar

__all__ = [
    "BadRequest",
    "Conflict",
    "DomainError",
    "ExpectedVersion",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "check_version",
    "expected_versions",
]


class DomainError(Exception):
    """Base of every error the API answers with; `status` is the HTTP status."""

    status: ClassVar[int] = 500
    error: ClassVar[str] = "internal_error"

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class BadRequest(DomainError):
    """The request cannot be carried out as asked."""

    status = 400
    error = "bad_request"


class Unauthorized(DomainError):
    """No valid API key."""

    status = 401
    error = "unauthorized"


class Forbidden(DomainError):
    """The key is valid but its role may not do this."""

    status = 403
    error = "forbidden"


class NotFound(DomainError):
    """No such object, or not one this caller may see."""

    status = 404
    error = "not_found"


class Conflict(DomainError):
    """The change clashes with what exists."""

    status = 409
    error = "conflict"


class PreconditionFailed(DomainError):
    """The object changed since the caller read it (If-Match)."""

    status = 412
    error = "precondition_failed"


# The versions a change may apply to: one, any of a set (an If-Match list of ETags), or None for any version.
ExpectedVersion = int | Set[int] | None


def expected_versions(expected: ExpectedVersion) -> list[int] | None:
    """The versions a change expects as a list (a query parameter), or None when any version will do."""
    if expected is None:
        return None
    return [expected] if isinstance(expected, int) else sorted(expected)


def check_version(current: int, expected: ExpectedVersion, *, what: str) -> None:
    """PreconditionFailed unless `current` is a version the change expected (read under the row's lock)."""
    versions = expected_versions(expected)
    if versions is not None and current not in versions:
        raise PreconditionFailed(f"the {what} changed since it was read; fetch it again")


class PayloadTooLarge(DomainError):
    """The request body is over the limit."""

    status = 413
    error = "payload_too_large"


class PreconditionRequired(DomainError):
    """A change to a versioned object must name the version it was based on (If-Match)."""

    status = 428
    error = "precondition_required"


class TooManyRequests(DomainError):
    """The key sent more requests than its rate allows."""

    status = 429
    error = "too_many_requests"


class ServiceUnavailable(DomainError):
    """The API cannot take the request now; try again after `retry_after` seconds."""

    status = 503
    error = "service_unavailable"
