"""Canonical names for the Focus RT data Pebble reads, and the stock tenant's names for them.

Focus tenants rename voucher types and customise field captions, so the connector never
hard-codes a tenant string: it looks every field up through a map from the canonical
names below to the tenant's names (see ``FocusSettings.field_map``). The defaults describe
a stock Focus 8 company with a few custom fields, as the demo world uses.
"""

from __future__ import annotations

#: Pebble's name for each voucher type it pulls.
SALES_ORDERS = "sales_orders"
INVOICES = "invoices"
QC_INSPECTIONS = "qc_inspections"
KINDS: tuple[str, ...] = (SALES_ORDERS, INVOICES, QC_INSPECTIONS)

DEFAULT_VOUCHER_TYPES: dict[str, str] = {
    SALES_ORDERS: "Sales Orders",
    INVOICES: "Sales Invoices",
    QC_INSPECTIONS: "QC Inspections",
}

#: canonical field -> the tenant's field name (header, body line and footer fields alike).
DEFAULT_FIELD_MAP: dict[str, str] = {
    # header
    "doc_no": "DocNo",
    "date": "Date",
    "customer_code": "CustomerAC__Code",
    "customer_name": "CustomerAC__Name",
    "gstin": "sGSTIN",
    "po_ref": "sPONo",
    "status": "sStatus",
    "order_no": "SalesOrder__DocNo",
    "vehicle_no": "sVehicleNo",
    "lr_no": "sLRNo",
    "batch_no": "Batch__Name",
    "product_code": "Item__Code",
    "product_name": "Item__Name",
    "qc_result": "sQCResult",
    "coa_status": "sCOAStatus",
    # body lines
    "item_code": "Item__Code",
    "item_name": "Item__Name",
    "quantity": "Quantity",
    "unit": "Unit__Code",
    "rate": "Rate",
    "amount": "Gross",
    "param_name": "QCParameter__Name",
    "param_unit": "sParamUnit",
    "param_min": "fMinLimit",
    "param_max": "fMaxLimit",
    "param_result": "fResult",
    "param_pass": "sParamResult",
    # footer
    "taxable_value": "TaxableValue",
    "gst_amount": "GSTAmount",
    "total": "NetAmount",
}

#: Demo tenant credentials; real deployments set FOCUS_USERNAME / FOCUS_PASSWORD / FOCUS_COMPANY_ID.
DEMO_USERNAME = "pebble"
DEMO_PASSWORD = "pebble-demo"
DEMO_COMPANY_ID = "020"
DEFAULT_PORT = 8090
