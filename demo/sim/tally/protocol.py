"""Tally export requests: the envelope, the filter formulas, and the XML answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from demo.sim.tally.company import TallyCompany
from demo.sim.tally.objects import TallyObject, TallyRequestError, _text
from ingest.tally.parse import sanitize

# --------------------------------------------------------------------------- requests

_FORMULA_ID = re.compile(r"^\$(alterid|masterid)\s*(>=|<=|==|=|>|<)\s*(\d+)$", re.IGNORECASE)
_FORMULA_VTYPE = re.compile(
    r'^(?:\$vouchertypename\s*=\s*"([^"]*)"|\$\$isequal:\$vouchertypename:"([^"]*)")$',
    re.IGNORECASE,
)
_OPS: dict[str, Callable[[int, int], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
}


def compile_filter(formula: str) -> Callable[[TallyObject], bool]:
    """A predicate for the small formula language the simulator understands.

    Supported: ``$AlterID > N`` (any comparison, also ``$MasterID``), ``$VoucherTypeName =
    "Sales"`` or ``$$IsEqual:$VoucherTypeName:"Sales"``, joined with ``AND``.
    """
    predicates: list[Callable[[TallyObject], bool]] = []
    for clause in re.split(r"\s+and\s+", formula.strip(), flags=re.IGNORECASE):
        clause = clause.strip().strip("()").strip()
        if match := _FORMULA_ID.match(clause):
            attr = "alter_id" if match.group(1).lower() == "alterid" else "master_id"
            op, bound = _OPS[match.group(2)], int(match.group(3))
            predicates.append(lambda o, a=attr, op=op, b=bound: op(getattr(o, a), b))
        elif match := _FORMULA_VTYPE.match(clause):
            wanted = (match.group(1) or match.group(2) or "").lower()
            predicates.append(lambda o, w=wanted: (o.voucher_type or "").lower() == w)
        else:
            raise TallyRequestError(f"Could not evaluate formula '{formula}'")
    return lambda obj: all(p(obj) for p in predicates)


def parse_request_date(value: str) -> date:
    """A request date: ``YYYYMMDD``, ``YYYY-MM-DD``, ``d-MMM-yyyy`` or ``d-MMM-yy``."""
    text = value.strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d", "%d-%b-%Y", "%d-%b-%y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise TallyRequestError(f"Invalid date '{value}'")


def _decode_request(body: bytes) -> tuple[str, bool]:
    """The request text and whether the client spoke UTF-8 (and asked for it)."""
    if body.startswith(b"\xff\xfe") or (len(body) > 1 and body[1] == 0 and body[0] != 0):
        return body.decode("utf-16-le", errors="replace").lstrip("\ufeff"), False
    if body.startswith(b"\xfe\xff") or (len(body) > 1 and body[0] == 0):
        return body.decode("utf-16-be", errors="replace").lstrip("\ufeff"), False
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
    declares_utf8 = bool(re.match(r"\s*<\?xml[^>]*encoding=[\"']utf-?8", text, re.IGNORECASE))
    return text, declares_utf8


@dataclass
class ExportRequest:
    """What a Tally export envelope asks for."""

    request_type: str  # Collection | Data | Object
    report_id: str
    static: dict[str, str]
    collection_type: str | None = None
    fetch: set[str] | None = None
    filters: list[str] = field(default_factory=list)


def parse_request(text: str) -> ExportRequest:
    """Read an export envelope (raises TallyRequestError for anything Tally would refuse)."""
    from lxml import etree

    text = sanitize(text)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise TallyRequestError(f"Unknown Request, cannot be processed: {exc}") from None
    if root.tag.upper() != "ENVELOPE":
        raise TallyRequestError("Unknown Request, cannot be processed")

    def find_text(path: str) -> str:
        found = root.find(path)
        return (found.text or "").strip() if found is not None else ""

    tally_request = find_text("HEADER/TALLYREQUEST")
    request_type = find_text("HEADER/TYPE")
    report_id = find_text("HEADER/ID")
    if not report_id:  # the older "Export Data" form names the report in the body
        report_id = find_text(".//REQUESTDESC/REPORTNAME")
        request_type = request_type or "Data"
    if tally_request and not tally_request.lower().startswith("export"):
        raise TallyRequestError(f"Unsupported request '{tally_request}'")
    if not report_id:
        raise TallyRequestError("Unknown Request, cannot be processed")
    static: dict[str, str] = {}
    for holder in root.iter("STATICVARIABLES"):
        for child in holder:
            if isinstance(child.tag, str):
                static[child.tag.upper()] = (child.text or "").strip()
    request = ExportRequest(request_type or "Collection", report_id, static)
    for collection in root.iter("COLLECTION"):
        if collection.get("NAME", "").strip().lower() != report_id.lower():
            continue
        request.collection_type = (collection.findtext("TYPE") or "").strip()
        fetch_text = ",".join(f.text or "" for f in collection.findall("FETCH"))
        if fetch_text.strip():
            request.fetch = {
                part.strip().split(".")[0].upper() for part in fetch_text.split(",") if part.strip()
            }
        filter_names = [
            name.strip()
            for f in collection.findall("FILTER")
            for name in (f.text or "").split(",")
            if name.strip()
        ]
        formulas = {
            s.get("NAME", "").strip().lower(): (s.text or "").strip()
            for s in root.iter("SYSTEM")
            if s.get("TYPE", "").lower() == "formulae"
        }
        for name in filter_names:
            if name.lower() not in formulas:
                raise TallyRequestError(f"Could not find Formula '{name}'")
            request.filters.append(formulas[name.lower()])
    return request


_BUILTIN_COLLECTIONS = {
    "stockitem": "StockItem",
    "stockitems": "StockItem",
    "stockgroup": "StockGroup",
    "stockgroups": "StockGroup",
    "ledger": "Ledger",
    "ledgers": "Ledger",
    "voucher": "Voucher",
    "vouchers": "Voucher",
    "company": "Company",
    "listofcompanies": "Company",
}
_ACCOUNT_TYPES = {
    "stockitems": ["StockItem"],
    "stockgroups": ["StockGroup"],
    "ledgers": ["Ledger"],
    "allinventorymasters": ["StockGroup", "StockItem"],
    "allmasters": ["StockGroup", "StockItem", "Ledger"],
    "allaccountsmasters": ["Ledger"],
}


def _envelope_collection(objects: str) -> str:
    return (
        "<ENVELOPE>\r\n <HEADER>\r\n  <VERSION>1</VERSION>\r\n  <STATUS>1</STATUS>\r\n </HEADER>\r\n"
        f" <BODY>\r\n  <DESC>\r\n  </DESC>\r\n  <DATA>\r\n   <COLLECTION>{objects}</COLLECTION>\r\n"
        "  </DATA>\r\n </BODY>\r\n</ENVELOPE>\r\n"
    )


def _envelope_data(report: str, objects: list[str]) -> str:
    messages = "".join(f"<TALLYMESSAGE>{obj}</TALLYMESSAGE>\r\n" for obj in objects)
    return (
        "<ENVELOPE>\r\n <HEADER>\r\n  <TALLYREQUEST>Import Data</TALLYREQUEST>\r\n </HEADER>\r\n"
        " <BODY>\r\n  <IMPORTDATA>\r\n   <REQUESTDESC>\r\n"
        f"    <REPORTNAME>{_text(report)}</REPORTNAME>\r\n   </REQUESTDESC>\r\n"
        f"   <REQUESTDATA>\r\n{messages}   </REQUESTDATA>\r\n  </IMPORTDATA>\r\n </BODY>\r\n"
        "</ENVELOPE>\r\n"
    )


def lineerror(message: str) -> str:
    return f"<RESPONSE>\r\n <LINEERROR>{_text(message)}</LINEERROR>\r\n</RESPONSE>\r\n"


def answer(company: TallyCompany, request: ExportRequest) -> str:
    """The XML text Tally would export for ``request`` (raises TallyRequestError)."""
    fmt = request.static.get("SVEXPORTFORMAT", "$$SysName:XML")
    if fmt.split(":")[-1].strip().upper() != "XML":
        raise TallyRequestError(f"Export format '{fmt}' is not supported; use $$SysName:XML")
    wanted_company = request.static.get("SVCURRENTCOMPANY")
    if wanted_company and wanted_company.strip() != company.name:
        raise TallyRequestError(f"Could not find Company '{wanted_company}'")
    from_date = (
        parse_request_date(request.static["SVFROMDATE"])
        if request.static.get("SVFROMDATE")
        else None
    )
    to_date = (
        parse_request_date(request.static["SVTODATE"]) if request.static.get("SVTODATE") else None
    )
    predicates = [compile_filter(formula) for formula in request.filters]

    def keep(obj: TallyObject) -> bool:
        if obj.voucher_date is not None:
            if from_date and obj.voucher_date < from_date:
                return False
            if to_date and obj.voucher_date > to_date:
                return False
        return all(p(obj) for p in predicates)

    kind = request.request_type.strip().lower()
    key = request.report_id.replace(" ", "").lower()
    if kind == "collection":
        type_name = request.collection_type or _BUILTIN_COLLECTIONS.get(key)
        if not type_name:
            raise TallyRequestError(f"Could not find Collection '{request.report_id}'")
        objects = [o for o in company.objects_of(type_name) if keep(o)]
        return _envelope_collection("".join(o.render(request.fetch) for o in objects))
    if kind == "data":
        if key == "daybook":
            types = ["Voucher"]
        elif key == "listofaccounts":
            account_type = request.static.get("ACCOUNTTYPE", "All Masters").replace(" ", "").lower()
            if account_type not in _ACCOUNT_TYPES:
                raise TallyRequestError(
                    f"Unknown Account Type '{request.static.get('ACCOUNTTYPE')}'"
                )
            types = _ACCOUNT_TYPES[account_type]
        else:
            raise TallyRequestError(f"Could not find Report '{request.report_id}'")
        objects = [o for t in types for o in company.objects_of(t) if keep(o)]
        return _envelope_data(request.report_id, [o.render(None) for o in objects])
    raise TallyRequestError(f"Unsupported request type '{request.request_type}'")
