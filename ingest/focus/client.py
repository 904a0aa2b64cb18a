"""HTTP client for the Focus RT REST API (``/Focus8API``).

The client logs in lazily, sends ``fSessionId`` on every call and, when Focus says the
session expired, logs in again and retries the call once. Transient failures (refused or
dropped connections, timeouts, HTTP 5xx, bodies that do not parse) are retried with
exponential backoff and jitter; a circuit breaker stops hammering a server that keeps
failing. Everything that goes wrong surfaces as a :class:`~ingest.focus.errors.FocusError`.

Thread-safe for concurrent calls (the sync fetches document screens on a pool of
``FOCUS_SCREEN_WORKERS`` threads): one :class:`requests.Session` is shared, with its
connection pool sized to the workers, and a session that expires is renewed by one login
that every thread waiting on it then uses.

Bounded: a reply is read up to ``FOCUS_MAX_RESPONSE_BYTES`` (``FOCUS_RESPONSE_TOO_LARGE``
beyond), and a listing stops with ``FOCUS_PAGING_LOOP`` when a page repeats one already
seen (a server ignoring ``pageNo``) or after ``FOCUS_MAX_PAGES`` pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter

from ingest.focus.errors import (
    FocusAuthError,
    FocusConnectionError,
    FocusError,
    FocusNotFoundError,
    FocusPagingError,
    FocusRequestError,
    FocusResponseError,
    FocusResponseTooLarge,
)
from ingest.focus.parse import format_query_date
from ingest.focus.settings import FocusSettings

log = logging.getLogger(__name__)

API_ROOT = "/Focus8API"


class _TransientError(Exception):
    """One attempt failed in a way worth retrying."""

    def __init__(self, message: str, *, bad_response: bool = False) -> None:
        super().__init__(message)
        self.bad_response = bad_response


def _is_session_problem(message: str) -> bool:
    text = message.casefold()
    return "session" in text and any(w in text for w in ("expire", "invalid", "login", "timed"))


class FocusClient:
    """A logged-in conversation with one Focus company; several threads may call it at once.

    Threads share one :class:`requests.Session` rather than one each. What a session keeps
    that is not safe to change under concurrent use (its headers, auth, adapters) is set here,
    before any call, and never changed after: the Focus session id travels as a per-request
    header, not on the session. What concurrent calls do touch is thread-safe: urllib3's
    connection pool hands each request a connection of its own (sized here to
    ``screen_workers + 1``: the workers and the listing, so no connection is opened and
    thrown away for want of room), the cookie jar locks itself, and the circuit breaker and
    this client's counters and session id are guarded by locks. Sharing keeps the
    keep-alive connections across pulls and voucher kinds, one ``close()`` releases them, and
    a session passed in as ``http`` (a proxy or TLS setup, a test's instrumented session) sees
    every request; give such a session a pool of at least ``screen_workers + 1``.
    """

    def __init__(
        self,
        settings: FocusSettings | None = None,
        *,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or FocusSettings()
        if http is None:
            http = requests.Session()
            pool = max(DEFAULT_POOLSIZE, self.settings.screen_workers + 1)
            adapter = HTTPAdapter(pool_maxsize=pool)
            http.mount("http://", adapter)
            http.mount("https://", adapter)
        self.http = http
        self.http.headers.update({"Accept": "application/json", "User-Agent": "pebble-focus/1.0"})
        self.breaker = self.settings.breaker()
        #: HTTP attempts made so far (retries included), for logs and tests
        self.attempts = 0
        self._sleep = sleep
        self._session_id: str | None = None
        #: Successful logins so far (the first and every renewal), for logs and tests.
        self.logins = 0
        # Held while logging in: a thread finding the session expired waits for a login
        # already under way instead of starting its own (no stampede of logins).
        self._session_lock = threading.RLock()
        #: The renewal that failed and the session it was renewing: threads that saw the
        #: same session expire get its error rather than each trying a doomed login.
        self._failed_renewal: tuple[str, FocusError] | None = None
        #: When Focus last refused these credentials, and how: for ``breaker_cooldown_s``
        #: after it, calls fail with this refusal instead of logging in again with them
        #: (every worker trying would be a burst of refused logins, which can lock the Focus
        #: user). An explicit ``login()`` always tries.
        self._refused: tuple[float, FocusAuthError] | None = None
        self._clock = time.monotonic
        self._count_lock = threading.Lock()

    def __enter__(self) -> FocusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections."""
        self.http.close()

    # -- public calls --------------------------------------------------------------------

    def login(self) -> str:
        """Log in and return the new session id; raises FocusAuthError on refusal."""
        s = self.settings
        body = {
            "data": [
                {
                    "Username": s.username,
                    "password": s.password.get_secret_value(),
                    "CompanyId": s.company_id,
                }
            ]
        }
        reply = self._send("POST", f"{API_ROOT}/Login", json_body=body)
        if reply.get("result") != 1:
            message = str(reply.get("message") or "login refused")
            refused = FocusAuthError(f"Focus refused the login for user {s.username!r}: {message}")
            with self._session_lock:
                self._refused = (self._clock(), refused)
            raise refused
        try:
            session_id = str(reply["data"][0]["fSessionId"])
        except (KeyError, IndexError, TypeError):
            raise FocusResponseError("login reply has no data[0].fSessionId") from None
        if not session_id:
            raise FocusResponseError("login reply has an empty fSessionId")
        with self._session_lock:
            self._session_id = session_id
            self._failed_renewal = None
            self._refused = None
            self.logins += 1
        return session_id

    def list_documents(
        self,
        voucher_type: str,
        *,
        from_date: dt.date | None = None,
        to_date: dt.date | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield the list rows (doc number and date, tenant field names) of ``voucher_type``,
        oldest first, page by page, optionally limited to documents dated in [from, to].

        Raises :class:`FocusPagingError` when a page repeats an earlier one or paging goes
        past ``max_pages``.
        """
        size = page_size or self.settings.page_size
        page_no = 1
        seen = 0
        pages: dict[str, int] = {}  # digest of each page's rows -> its page number
        while True:
            if page_no > self.settings.max_pages:
                raise FocusPagingError(
                    f"listing {voucher_type!r} goes past {self.settings.max_pages} pages "
                    "(FOCUS_MAX_PAGES); refusing to page on"
                )
            params: dict[str, str | int] = {"pageNo": page_no, "pageSize": size}
            if from_date is not None:
                params["fromDate"] = format_query_date(from_date)
            if to_date is not None:
                params["toDate"] = format_query_date(to_date)
            reply = self._call("GET", f"{API_ROOT}/List/Transactions/{_seg(voucher_type)}", params)
            rows = reply.get("data")
            if not isinstance(rows, list):
                raise FocusResponseError(f"list reply for {voucher_type!r} has no data list")
            if rows:
                digest = _page_digest(rows)
                if digest in pages:
                    raise FocusPagingError(
                        f"listing {voucher_type!r}: page {page_no} repeats page "
                        f"{pages[digest]}; the server ignores paging"
                    )
                pages[digest] = page_no
            yield from rows
            seen += len(rows)
            total = reply.get("totalCount")
            if len(rows) < size or not rows or (isinstance(total, int) and seen >= total):
                return
            page_no += 1

    def screen(self, voucher_type: str, doc_no: str) -> dict[str, Any]:
        """The full document ``doc_no`` of ``voucher_type`` as ``{"Header", "Body", "Footer"}``."""
        path = f"{API_ROOT}/Screen/Transactions/{_seg(voucher_type)}/{_seg(doc_no)}"
        reply = self._call("GET", path)
        data = reply.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise FocusResponseError(f"screen reply for {doc_no!r} has no document")
        return data[0]

    # -- plumbing ------------------------------------------------------------------------

    def _call(self, method: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """An authenticated call; renews the session once if Focus says it has expired."""
        session_id = self._current_session()
        for renewed in (False, True):
            reply = self._send(method, path, params=params, session_id=session_id)
            if reply.get("result") == 1:
                return reply
            message = str(reply.get("message") or "no message")
            if _is_session_problem(message):
                if renewed:
                    raise FocusAuthError(f"session rejected again after a fresh login: {message}")
                session_id = self._renew(session_id, message)
                continue
            if "not found" in message.casefold():
                raise FocusNotFoundError(message)
            raise FocusRequestError(message)
        raise AssertionError("unreachable")

    def _current_session(self) -> str:
        """The session id to call with, logging in first if there is none (one thread logs
        in, the others wait for it)."""
        with self._session_lock:
            if self._session_id:
                return self._session_id
            self._raise_recent_refusal()
            return self.login()

    def _raise_recent_refusal(self) -> None:
        """Raise the refusal of these credentials if it is under ``breaker_cooldown_s`` old."""
        if self._refused is not None:
            refused_at, refusal = self._refused
            if self._clock() - refused_at < self.settings.breaker_cooldown_s:
                raise refusal

    def _renew(self, stale: str, message: str) -> str:
        """A session id to replace ``stale``, which Focus just refused: the one another
        thread has meanwhile logged in for, or a fresh login's. Raises the login's error,
        the same one to every thread that saw ``stale`` refused."""
        with self._session_lock:
            if self._session_id is not None and self._session_id != stale:
                return self._session_id  # another thread has already logged in again
            if self._failed_renewal is not None and self._failed_renewal[0] == stale:
                raise self._failed_renewal[1]
            self._raise_recent_refusal()
            log.info("Focus session no longer valid (%s); logging in again", message)
            self._session_id = None
            try:
                return self.login()
            except FocusError as exc:
                self._failed_renewal = (stale, exc)
                raise

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """One logical request with retries; returns the parsed JSON object."""
        s = self.settings
        url = f"{s.url}{path}"
        headers = {"fSessionId": session_id} if session_id else {}
        last: _TransientError | None = None
        for attempt in range(s.retries + 1):
            if not self.breaker.allow():
                raise FocusConnectionError(
                    f"circuit open after repeated failures talking to {s.url}",
                    url=s.url,
                    retry_after=self.breaker.retry_after() or None,
                )
            if attempt:
                self._sleep(s.backoff(attempt))
            with self._count_lock:
                self.attempts += 1
            try:
                reply = self._attempt(method, url, params, json_body, headers)
            except _TransientError as exc:
                last = exc
                self.breaker.record_failure()
                log.warning(
                    "Focus %s %s failed (attempt %d/%d): %s",
                    method,
                    path,
                    attempt + 1,
                    s.retries + 1,
                    exc,
                )
                continue
            self.breaker.record_success()
            return reply
        assert last is not None
        if last.bad_response:
            raise FocusResponseError(f"{method} {path}: {last}")
        raise FocusConnectionError(
            f"cannot reach Focus at {s.url}: {last}",
            url=s.url,
            retry_after=self.breaker.retry_after() or None,
        )

    def _attempt(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        json_body: Any,
        headers: dict[str, str],
    ) -> dict[str, Any]:
        s = self.settings
        try:
            with self.http.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=headers,
                timeout=(s.connect_timeout_s, s.read_timeout_s),
                stream=True,
            ) as response:
                content = _read_capped(response, s.max_response_bytes, url)
        except requests.Timeout as exc:
            raise _TransientError(f"timed out ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise _TransientError(f"{type(exc).__name__}: {_short(exc)}") from None
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise _TransientError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise FocusRequestError(f"HTTP {response.status_code} from {url}")
        try:
            reply = json.loads(content.decode(response.encoding or "utf-8"))
        except (ValueError, UnicodeDecodeError, LookupError, RecursionError) as exc:
            # LookupError: a charset no codec knows; RecursionError: JSON nested too deep.
            raise _TransientError(
                f"reply is not valid JSON ({len(content)} bytes): {exc}", bad_response=True
            ) from None
        if not isinstance(reply, dict) or "result" not in reply:
            raise _TransientError("reply is not a Focus result object", bad_response=True)
        return reply


def _read_capped(response: requests.Response, limit: int, url: str) -> bytes:
    """The body, refused past ``limit`` bytes (by its Content-Length, or while reading)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FocusResponseTooLarge(f"reply from {url} is larger than {limit} bytes")
    body = bytearray()
    for chunk in response.iter_content(chunk_size=1 << 16):
        body += chunk
        if len(body) > limit:
            raise FocusResponseTooLarge(
                f"reply from {url} is larger than {limit} bytes (FOCUS_MAX_RESPONSE_BYTES)"
            )
    return bytes(body)


def _page_digest(rows: list[Any]) -> str:
    """A page's identity: the SHA-256 of its rows as canonical JSON."""
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _seg(value: str) -> str:
    """One URL path segment: everything encoded, slashes included (``SO/25-26/1`` stays one)."""
    return quote(value, safe="")


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:197] + "..."
