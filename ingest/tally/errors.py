"""The typed errors the Tally connector raises (each carries a message fit for a user)."""

from __future__ import annotations


class TallyError(Exception):
    """Base class of every Tally connector error."""


class TallyConnectionError(TallyError):
    """Tally could not be reached (refused, dropped, timed out, or the circuit is open).

    ``code`` is always ``TALLY_CONNECTION_FAILED``; ``retry_after`` is how many seconds a
    caller should wait before trying again.
    """

    code = "TALLY_CONNECTION_FAILED"

    def __init__(self, message: str, *, url: str, retry_after: float) -> None:
        super().__init__(message)
        self.url = url
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.args[0]} (url {self.url}; retry after {self.retry_after:.0f} s)"


class TallyResponseError(TallyError):
    """Tally answered, but with an error (``<LINEERROR>``, usually with HTTP 200)."""

    code = "TALLY_LINEERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TallyParseError(TallyError):
    """The answer is not a complete, well-formed Tally export (malformed or truncated, or
    declaring a DOCTYPE)."""

    code = "TALLY_BAD_RESPONSE"


class TallyResponseTooLarge(TallyError):
    """Tally's answer is larger than ``TALLY_MAX_RESPONSE_BYTES``; nothing of it is used.

    Not retried: the same request gives the same answer. Voucher windows are halved first
    (down to one day) before this reaches the caller.
    """

    code = "TALLY_RESPONSE_TOO_LARGE"

    def __init__(self, limit: int, *, url: str) -> None:
        super().__init__(
            f"Tally's answer from {url} is larger than {limit} bytes (TALLY_MAX_RESPONSE_BYTES); "
            "ask for a narrower range or raise the limit"
        )
        self.limit = limit
        self.url = url


class TallyCompanyNotFound(TallyError):
    """``TALLY_COMPANY`` names a company Tally does not have open.

    Never falls back to another company: its ALTERIDs would move the cursors of the wrong
    books. ``available`` lists the companies Tally answered with.
    """

    code = "TALLY_COMPANY_NOT_FOUND"

    def __init__(self, company: str, available: list[str]) -> None:
        names = ", ".join(repr(name) for name in available) or "none"
        super().__init__(
            f"company {company!r} (TALLY_COMPANY) is not open in Tally; open companies: {names}"
        )
        self.company = company
        self.available = available
