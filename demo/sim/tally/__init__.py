"""A Tally Prime simulator speaking Tally's XML-over-HTTP export protocol.

It serves the demo world as the company "Pebble Demo Chemicals Pvt Ltd": stock groups and
stock items from the catalogue, one party ledger per customer GSTIN, Sales Order vouchers
from the Focus sales orders and Sales vouchers from the invoices. Answers reproduce the
quirks a real installation shows: UTF-16LE with a BOM, ``&#4;`` reserved names, space-padded
numbers, units inside quantities and rates, ``(-)`` negatives, negative debit amounts,
``YYYYMMDD`` dates, ``Yes``/``No`` flags and ``<LINEERROR>`` with HTTP 200.

Closing stock is opening stock plus purchases minus dispatches. The demo world records
no purchases, so whenever a dispatch would take an item below zero the trader restocks
first: a Purchase voucher from one supplier, dated the same day, refilling to about the
opening level.

Like Tally, it processes one request at a time. With a live interval it dispatches one open
sales order every interval (a new Sales voucher with new ALTERIDs; closing stock falls), so
incremental pulls see new data. Failure modes come from :class:`demo.sim.faults.Faults`.
"""

from demo.sim.tally.company import TallyCompany
from demo.sim.tally.objects import COMPANY_NAME, TallyObject, TallyRequestError
from demo.sim.tally.protocol import (
    ExportRequest,
    answer,
    compile_filter,
    lineerror,
    parse_request,
    parse_request_date,
)
from demo.sim.tally.server import TallySimulator

__all__ = [
    "COMPANY_NAME",
    "ExportRequest",
    "TallyCompany",
    "TallyObject",
    "TallyRequestError",
    "TallySimulator",
    "answer",
    "compile_filter",
    "lineerror",
    "parse_request",
    "parse_request_date",
]
