"""The error the client raises for a refused or failed request."""

from __future__ import annotations

from skyparley.errors import SkyparleyError

__all__ = ["ClientError"]


class ClientError(SkyparleyError):
    """The service refused a request, or could not be reached.

    ``status`` is the HTTP status (0 when no answer came: the service is unreachable),
    ``code`` the API's error code (``invalid``, ``conflict``, ``unauthorized``, ...;
    ``unreachable`` when no answer came), ``field`` the field the service named (``None``
    when it named none) and ``reason`` its words. The message reads
    ``field: reason (HTTP status code)``.
    """

    def __init__(self, status: int, code: str, field: str | None, reason: str) -> None:
        self.status = status
        self.code = code
        self.field = field
        self.reason = reason
        where = f"{field}: " if field else ""
        tail = f" (HTTP {status} {code})" if status else ""
        super().__init__(f"{where}{reason}{tail}")
