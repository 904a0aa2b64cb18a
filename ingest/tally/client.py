"""The network side of the connector: export envelopes, one request at a time, retries,
a circuit breaker.

An envelope asks Tally for one collection with inline TDL: its FETCH list and filters
(:func:`collection_request`). Responses are downloaded whole into a spooled temporary file
(memory up to a few MB, then disk) before parsing, so a retry never hands out half a result
and parsing stays streaming however large the answer is. The spool stops at
``TALLY_MAX_RESPONSE_BYTES`` (:class:`TallyResponseTooLarge`, also raised at once when the
declared Content-Length is over it); a voucher window that hits it is halved and asked
again, down to one day.

An unreachable Tally fails fast: each attempt waits at most ``connect_timeout_s`` for a
connection, there are ``retries`` more attempts with jittered exponential backoff, and the
circuit breaker opens after ``breaker_failures`` consecutive failures, after which no
request goes out until ``breaker_cooldown_s`` has passed. With the defaults an unreachable
host costs at most 4 x 5 s + 7 s before :class:`TallyConnectionError`.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

import requests

from ingest.common.limits import LimitExceeded, spool_bounded
from ingest.tally.errors import (
    TallyCompanyNotFound,
    TallyConnectionError,
    TallyResponseError,
    TallyResponseTooLarge,
)
from ingest.tally.parse import OnReject, Record, iter_records
from ingest.tally.settings import TallySettings

log = logging.getLogger(__name__)

_SPOOL_BYTES = 8 << 20
_TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)

#: Tally object type and the fields fetched for each collection the connector pulls.
COLLECTION_SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stock-items": (
        "StockItem",
        ("Name", "Parent", "BaseUnits", "OpeningBalance", "OpeningValue", "ClosingBalance",
         "ClosingRate", "ClosingValue", "GSTDetails", "HSNDetails", "LanguageName",
         "AdditionalUnits", "Denominator", "Conversion"),
    ),
    "stock-groups": ("StockGroup", ("Name", "Parent")),
    "ledgers": (
        "Ledger",
        ("Name", "Parent", "PartyGSTIN", "LedGSTRegDetails", "IncomeTaxNumber", "LedStateName",
         "StateName", "Email", "LedgerMobile", "Address", "OpeningBalance"),
    ),
    "vouchers": (
        "Voucher",
        ("Date", "VoucherTypeName", "VoucherNumber", "PartyLedgerName", "PartyGSTIN",
         "Reference", "IsCancelled", "IsOptional", "BasicShipVesselNo", "BasicShipDocumentNo",
         "InvoiceOrderList", "LedgerEntries", "AllInventoryEntries"),
    ),
    "company": (
        "Company",
        ("Name", "BooksFrom", "StartingFrom", "LastVoucherDate", "AltMstId", "AltVchId"),
    ),
}  # fmt: skip
ALWAYS_FETCHED = ("GUID", "MasterID", "AlterID")


def tally_date(value: date) -> str:
    return value.strftime("%Y%m%d")


def collection_request(
    collection: str,
    *,
    company: str | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    alter_id_above: int | None = None,
) -> str:
    """The export envelope for one of :data:`COLLECTION_SPECS` (names XML-escaped)."""
    if collection not in COLLECTION_SPECS:
        raise ValueError(f"unknown collection {collection!r}")
    object_type, fields = COLLECTION_SPECS[collection]
    name = f"Pebble{object_type}Export"
    static = ["<SVEXPORTFORMAT>$$SysName:XML</SVEXPORTFORMAT>"]
    if company:
        static.append(f"<SVCURRENTCOMPANY>{escape(company)}</SVCURRENTCOMPANY>")
    if from_date:
        static.append(f"<SVFROMDATE>{tally_date(from_date)}</SVFROMDATE>")
    if to_date:
        static.append(f"<SVTODATE>{tally_date(to_date)}</SVTODATE>")
    filters = ""
    formulas = ""
    if alter_id_above is not None:
        filters = "<FILTER>PebbleChangedSince</FILTER>"
        formulas = (
            '<SYSTEM TYPE="Formulae" NAME="PebbleChangedSince">'
            f"{escape(f'$AlterID > {int(alter_id_above)}')}</SYSTEM>"
        )
    fetch = ", ".join((*fields, *ALWAYS_FETCHED))
    return (
        "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST>"
        f"<TYPE>Collection</TYPE><ID>{escape(name)}</ID></HEADER>"
        f"<BODY><DESC><STATICVARIABLES>{''.join(static)}</STATICVARIABLES>"
        f'<TDL><TDLMESSAGE><COLLECTION NAME={quoteattr(name)} ISMODIFY="No">'
        f"<TYPE>{object_type}</TYPE><FETCH>{fetch}</FETCH>{filters}</COLLECTION>"
        f"{formulas}</TDLMESSAGE></TDL></DESC></BODY></ENVELOPE>"
    )


class TallyClient:
    """Talks to one Tally over HTTP: builds envelopes, sends them, yields records."""

    def __init__(
        self,
        settings: TallySettings | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **overrides: Any,
    ) -> None:
        base = settings or TallySettings()
        self.settings = base.model_copy(update=overrides) if overrides else base
        self.url = self.settings.url.rstrip("/") or self.settings.url
        self.session = session or requests.Session()
        self.breaker = self.settings.breaker()
        #: HTTP attempts made so far (retries included), for logs and tests
        self.attempts = 0
        self._sleep = sleep
        self._one_at_a_time = threading.Lock()

    # transport -------------------------------------------------------------------------

    def _encode(self, envelope: str) -> tuple[bytes, str]:
        if self.settings.utf8:
            body = '<?xml version="1.0" encoding="utf-8"?>' + envelope
            return body.encode("utf-8"), "text/xml;charset=utf-8"
        return b"\xff\xfe" + envelope.encode("utf-16-le"), "text/xml;charset=utf-16"

    def _fail(self, message: str, retry: int) -> TallyConnectionError:
        retry_after = self.breaker.retry_after() or max(1.0, self.settings.backoff(retry))
        return TallyConnectionError(message, url=self.url, retry_after=retry_after)

    def post(self, envelope: str) -> IO[bytes]:
        """Send one envelope and return the whole response body as a file at offset 0.

        Retries connection failures, timeouts and 5xx answers with backoff; raises
        TallyConnectionError when they persist or the circuit is open.
        """
        body, content_type = self._encode(envelope)
        timeout = (self.settings.connect_timeout_s, self.settings.read_timeout_s)
        last_error = "no attempt made"
        with self._one_at_a_time:  # Tally is single-threaded: never overlap requests
            for attempt in range(self.settings.retries + 1):
                if not self.breaker.allow():
                    raise TallyConnectionError(
                        f"Tally at {self.url} is failing; not retrying until the cool-down ends"
                        f" (last error: {last_error})",
                        url=self.url,
                        retry_after=self.breaker.retry_after(),
                    )
                if attempt:
                    self._sleep(self.settings.backoff(attempt))
                self.attempts += 1
                try:
                    return self._attempt(body, content_type, timeout)
                except _TransientHTTP as exc:
                    last_error = str(exc)
                except requests.Timeout:
                    last_error = f"no answer within {self.settings.read_timeout_s:g} s"
                except _TRANSIENT as exc:
                    last_error = _describe(exc)
                self.breaker.record_failure()
                log.warning("Tally request failed (attempt %d): %s", attempt + 1, last_error)
        raise self._fail(
            f"cannot reach Tally at {self.url}: {last_error}", self.settings.retries + 1
        )

    def _attempt(self, body: bytes, content_type: str, timeout: tuple[float, float]) -> IO[bytes]:
        with self.session.post(
            self.url,
            data=body,
            headers={"Content-Type": content_type},
            timeout=timeout,
            stream=True,
        ) as response:
            if response.status_code >= 500:
                raise _TransientHTTP(f"HTTP {response.status_code} from Tally")
            if response.status_code >= 400:
                self.breaker.record_success()  # it answered: the service is up
                raise TallyResponseError(f"Tally refused the request: HTTP {response.status_code}")
            limit = self.settings.max_response_bytes
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                self.breaker.record_success()  # it answered: the service is up
                raise TallyResponseTooLarge(limit, url=self.url)
            spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
            try:
                spool_bounded(response.iter_content(chunk_size=1 << 20), spool, limit, "answer")
            except LimitExceeded:
                spool.close()
                self.breaker.record_success()
                raise TallyResponseTooLarge(limit, url=self.url) from None
            except BaseException:
                spool.close()
                raise
        self.breaker.record_success()
        spool.seek(0)
        return spool

    # collections -----------------------------------------------------------------------

    def records(
        self, collection: str, *, on_reject: OnReject | None = None, **request: Any
    ) -> Iterator[Record]:
        """Records of one collection (see :func:`collection_request` for the options).

        With ``on_reject``, a record holding a value that cannot be read is handed to it
        and skipped (see :func:`ingest.tally.parse.iter_records`); without, it raises.
        """
        envelope = collection_request(collection, company=self.settings.company, **request)
        with self.post(envelope) as body:
            yield from iter_records(body, collection, on_reject=on_reject)

    def company_info(self) -> Record:
        """The company: books_from, last_voucher_date, alt_mst_id, alt_vch_id.

        With ``TALLY_COMPANY`` set, that company or :class:`TallyCompanyNotFound`: cursors
        from another company's books would skip or repeat data. Unset, the company Tally
        has loaded (the first, when several are open).
        """
        # Asked without SVCURRENTCOMPANY: the list of open companies, matched here by name.
        with self.post(collection_request("company")) as body:
            companies = list(iter_records(body, "company"))
        if not companies:
            raise TallyResponseError("Tally has no company loaded")
        wanted = self.settings.company
        if wanted:
            for company in companies:
                if company["name"] == wanted:
                    return company
            for company in companies:  # Tally matches company names case-insensitively
                if (company["name"] or "").casefold() == wanted.strip().casefold():
                    return company
            raise TallyCompanyNotFound(wanted, [str(c["name"]) for c in companies])
        return companies[0]

    def vouchers(
        self,
        from_date: date,
        to_date: date,
        alter_id_above: int | None = None,
        *,
        on_reject: OnReject | None = None,
    ) -> Iterator[list[Record]]:
        """Vouchers dated in [from_date, to_date], one list per date window.

        Windows start at ``batch_days``, shrink when one returns more than
        ``batch_max_vouchers`` (so no request grows large enough to hang Tally) and grow
        back towards ``batch_days`` when they come back small. A window whose answer is over
        ``max_response_bytes`` is halved and asked again; a single day over it raises
        :class:`TallyResponseTooLarge`.
        """
        days = self.settings.batch_days
        start = from_date
        while start <= to_date:
            end = min(to_date, start + timedelta(days=days - 1))
            request: dict[str, Any] = {
                "from_date": start,
                "to_date": end,
                "alter_id_above": alter_id_above,
            }
            if on_reject is not None:
                request["on_reject"] = on_reject
            try:
                batch = list(self.records("vouchers", **request))
            except TallyResponseTooLarge:
                if days == 1:
                    raise
                days = max(1, days // 2)
                log.warning("Tally voucher answer over the limit; asking %d days at a time", days)
                continue
            yield batch
            target = self.settings.batch_max_vouchers
            if len(batch) > target:
                days = max(1, days * target // len(batch))
            elif len(batch) < target // 4 and days < self.settings.batch_days:
                days = min(self.settings.batch_days, days * 2)
            start = end + timedelta(days=1)


class _TransientHTTP(Exception):
    """A 5xx answer: worth retrying."""


def _describe(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "RemoteDisconnected" in text or "closed connection" in text or "aborted" in text:
        return "connection closed without an answer"
    return text.splitlines()[0][:200] if text else type(exc).__name__
