"""Connector settings, from the environment (``FOCUS_*``) or passed in directly, and the
canonical names the connector reads Focus RT data by.

| variable | default | meaning |
| --- | --- | --- |
| ``FOCUS_URL`` | ``http://127.0.0.1:8090`` | base URL of the Focus server (the simulator's default port) |
| ``FOCUS_USERNAME`` / ``FOCUS_PASSWORD`` / ``FOCUS_COMPANY_ID`` | demo values | login |
| ``FOCUS_VOUCHER_TYPES`` | see ``DEFAULT_VOUCHER_TYPES`` | JSON: kind -> tenant voucher-type name |
| ``FOCUS_FIELD_MAP`` | see ``DEFAULT_FIELD_MAP`` | JSON: canonical field -> tenant field name |
| ``FOCUS_CONNECT_TIMEOUT_S`` ... ``FOCUS_BREAKER_COOLDOWN_S`` | see ``HttpSettings`` | retries, breaker |
| ``FOCUS_MAX_PAGES`` | 10000 | pages one listing may take (``FOCUS_PAGING_LOOP`` beyond) |
| ``FOCUS_MAX_RESPONSE_BYTES`` | 64 MiB | largest reply read (``FOCUS_RESPONSE_TOO_LARGE`` beyond) |
| ``FOCUS_SCREEN_WORKERS`` | 8 | document screens fetched at once (1: one after another) |

Both JSON maps are merged over the defaults, so a tenant only lists what it renamed. The
HTTP names are those of every ERP client (:class:`ingest.common.resilience.HttpSettings`);
the names of earlier releases (``FOCUS_MAX_RETRIES``, ``FOCUS_BACKOFF_BASE_S``,
``FOCUS_BREAKER_THRESHOLD``) are still read.

Focus tenants rename voucher types and customise field captions, so the connector never
hard-codes a tenant string: it looks every field up through a map from the canonical
names below to the tenant's names. The defaults describe a stock Focus 8 company with a
few custom fields, as the demo world uses.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from ingest.common.resilience import HttpSettings

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


class FocusSettings(HttpSettings):
    """Where Focus is, how to log in, how patient to be, and the tenant's names."""

    model_config = SettingsConfigDict(env_prefix="FOCUS_")

    url: str = f"http://127.0.0.1:{DEFAULT_PORT}"
    username: str = DEMO_USERNAME
    password: SecretStr = SecretStr(DEMO_PASSWORD)
    company_id: str = DEMO_COMPANY_ID

    #: Attempts after the first for transient failures (dropped connection, timeout, bad body).
    retries: int = Field(
        default=3, ge=0, validation_alias=AliasChoices("FOCUS_RETRIES", "FOCUS_MAX_RETRIES")
    )
    backoff_s: float = Field(
        default=0.5, ge=0, validation_alias=AliasChoices("FOCUS_BACKOFF_S", "FOCUS_BACKOFF_BASE_S")
    )
    #: Consecutive failed attempts that open the circuit (``breaker_cooldown_s`` it stays open).
    breaker_failures: int = Field(
        default=5,
        ge=1,
        validation_alias=AliasChoices("FOCUS_BREAKER_FAILURES", "FOCUS_BREAKER_THRESHOLD"),
    )

    page_size: int = Field(default=200, ge=1, le=1000)
    #: Pages one listing may take: 2 million documents at the default page size. A server
    #: that pages on for ever fails with FOCUS_PAGING_LOOP instead of running for ever.
    max_pages: int = Field(default=10_000, ge=1)
    #: Largest reply body read into memory (a list page or one document).
    max_response_bytes: int = Field(default=64 << 20, ge=1024)
    #: Document screens fetched at once during a pull (one request per document, on a pool
    #: of this many threads; landing order stays the listing order). 1 fetches them one
    #: after another on the calling thread. Keep it modest: every worker is one more
    #: request the Focus server has to serve at the same time.
    screen_workers: int = Field(default=8, ge=1, le=64)
    #: Incremental pulls start this many days before the last seen document date, so status
    #: changes to recent documents are picked up (re-landing unchanged ones adds nothing).
    lookback_days: int = Field(default=7, ge=0)

    voucher_types: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_VOUCHER_TYPES))
    field_map: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_FIELD_MAP))

    @field_validator("url")
    @classmethod
    def _strip_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"FOCUS_URL must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    @field_validator("voucher_types")
    @classmethod
    def _merge_voucher_types(cls, value: dict[str, Any]) -> dict[str, str]:
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown voucher kinds {unknown}; expected {list(KINDS)}")
        return {**DEFAULT_VOUCHER_TYPES, **{k: str(v) for k, v in value.items()}}

    @field_validator("field_map")
    @classmethod
    def _merge_field_map(cls, value: dict[str, Any]) -> dict[str, str]:
        unknown = sorted(set(value) - set(DEFAULT_FIELD_MAP))
        if unknown:
            raise ValueError(f"unknown canonical fields {unknown}")
        return {**DEFAULT_FIELD_MAP, **{k: str(v) for k, v in value.items()}}

    def kind_for(self, voucher_type: str) -> str:
        """The kind named by ``voucher_type`` (a kind or a tenant name, any case)."""
        wanted = voucher_type.strip().casefold()
        for kind, name in self.voucher_types.items():
            if wanted in (kind.casefold(), name.casefold()):
                return kind
        choices = ", ".join(f"{k} ({n!r})" for k, n in self.voucher_types.items())
        raise ValueError(f"unknown voucher type {voucher_type!r}; configured: {choices}")
