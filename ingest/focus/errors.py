"""Typed failures of the Focus RT connector; each carries a stable ``code`` for callers and logs,
and where there is one a ``next_step`` its text ends with: what to do now. Batches landed
before a failure stay with their cursor (see :mod:`ingest.focus.sync`), so running the sync
again resumes without duplicates."""

from __future__ import annotations

#: Said by every error a new attempt can cure: why a re-run is safe.
RERUN = (
    "then run the sync again (`pebble focus sync`): what landed stays and the rest "
    "resumes from the cursor, nothing twice"
)


class FocusError(Exception):
    """Any failure talking to Focus RT or reading what it sent."""

    code = "FOCUS_ERROR"
    #: What to do about it, appended to the message ("" when the message says it already).
    next_step = ""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        return f"{text}. Next: {self.next_step}" if self.next_step else text


class FocusConnectionError(FocusError):
    """Focus could not be reached (refused, dropped, timed out, or the circuit is open).

    ``retry_after`` is the number of seconds after which a new attempt makes sense, when known.
    """

    code = "FOCUS_CONNECTION_FAILED"
    next_step = f"check that Focus RT is running and reachable at FOCUS_URL, {RERUN}"

    def __init__(self, message: str, *, url: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.retry_after = retry_after


class FocusAuthError(FocusError):
    """Focus refused the credentials, or kept refusing the session after a fresh login."""

    code = "FOCUS_AUTH_FAILED"
    next_step = (
        "check FOCUS_USERNAME, FOCUS_PASSWORD and FOCUS_COMPANY_ID against the Focus user "
        f"(its password may have changed or it may be locked), {RERUN}"
    )


class FocusResponseError(FocusError):
    """Focus answered with something that is not a well-formed Focus reply (bad JSON, cut off)."""

    code = "FOCUS_BAD_RESPONSE"
    next_step = f"the reply was cut short or garbled on the way, {RERUN}"


class FocusRequestError(FocusError):
    """Focus answered ``result: -1`` for a reason other than authentication."""

    code = "FOCUS_REQUEST_FAILED"


class FocusNotFoundError(FocusRequestError):
    """The voucher type or document does not exist in this Focus company."""

    code = "FOCUS_NOT_FOUND"


class FocusFieldError(FocusError):
    """A document lacks a field the field map names, or holds a value that cannot be read."""

    code = "FOCUS_FIELD_INVALID"


class FocusPagingError(FocusResponseError):
    """Paging does not end: Focus sent the same page again, or more than ``FOCUS_MAX_PAGES``
    pages. Nothing of the listing is used, so no cursor moves past what was not seen."""

    code = "FOCUS_PAGING_LOOP"
    next_step = ""


class FocusResponseTooLarge(FocusResponseError):
    """One reply is larger than ``FOCUS_MAX_RESPONSE_BYTES``; not retried."""

    code = "FOCUS_RESPONSE_TOO_LARGE"
    next_step = "narrow the date range or raise FOCUS_MAX_RESPONSE_BYTES"
