"""Build Tally export envelopes: a collection with inline TDL, its FETCH list and filters."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape, quoteattr

#: Tally object type and the fields fetched for each collection the connector pulls.
COLLECTION_SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stock-items": (
        "StockItem",
        ("Name", "Parent", "BaseUnits", "OpeningBalance", "OpeningValue", "ClosingBalance",
         "ClosingRate", "ClosingValue", "GSTDetails", "HSNDetails"),
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
