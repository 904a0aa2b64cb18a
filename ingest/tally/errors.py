"""The typed errors the Tally connector raises (each carries a message fit for a user).

Every error has a stable ``code`` and, where there is one, a ``next_step`` that its text
ends with: what the person running the sync should do now. A failed collection keeps
nothing of itself (see :mod:`ingest.tally.sync`), so running the sync again is always safe.
"""

from __future__ import annotations

#: Said by every error a new attempt can cure: why a re-run is safe.
RERUN = (
    "then run the sync again (`pebble tally sync`): a collection cut short kept nothing, "
    "so it lands whole, once"
)


class TallyError(Exception):
    """Base class of every Tally connector error."""

    code = "TALLY_ERROR"
    #: What to do about it, appended to the message ("" when the message says it already).
    next_step = ""

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}. Next: {self.next_step}" if self.next_step else text


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

    @property
    def next_step(self) -> str:  # type: ignore[override]
        slow = "no answer within" in self.args[0]
        check = (
            "Tally is up but answering slowly: wait until it is idle or raise TALLY_READ_TIMEOUT_S"
            if slow
            else "check that Tally is running with its HTTP server on at this URL (TALLY_URL)"
        )
        return f"{check}, {RERUN}"

    def __str__(self) -> str:
        return (
            f"{self.args[0]} (url {self.url}; retry after {self.retry_after:.0f} s). "
            f"Next: {self.next_step}"
        )


class TallyResponseError(TallyError):
    """Tally answered, but with an error (``<LINEERROR>``, usually with HTTP 200)."""

    code = "TALLY_LINEERROR"
    next_step = f"close any report open in Tally's foreground or fix what it names, {RERUN}"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TallyParseError(TallyError):
    """The answer is not a complete, well-formed Tally export (malformed or truncated, or
    declaring a DOCTYPE)."""

    code = "TALLY_BAD_RESPONSE"
    next_step = (
        f"the answer was cut short or garbled on the way, {RERUN}; if it keeps failing, "
        "save the answer with `pebble tally pull` and check it"
    )


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
