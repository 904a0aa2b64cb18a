"""The connector's client against the simulator over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from demo.sim.focus import FocusSimulator
from ingest.common.resilience import CircuitBreaker
from ingest.focus.client import FocusClient
from ingest.focus.errors import (
    FocusAuthError,
    FocusConnectionError,
    FocusFieldError,
    FocusNotFoundError,
    FocusRequestError,
    FocusResponseError,
)
from ingest.focus.settings import FocusSettings
from ingest.focus.sync import pull_documents, pull_one

MakeClient = Callable[..., FocusClient]


def test_list_and_screen_for_every_voucher_type(make_client: MakeClient) -> None:
    client = make_client(page_size=2)  # forces three pages of sales orders
    orders = list(client.list_documents("Sales Orders"))
    assert [row["DocNo"] for row in orders] == [f"SO/25-26/0000{n}" for n in range(1, 6)]
    invoice = client.screen("Sales Invoices", "INV/25-26/00011")
    assert invoice["Header"]["sVehicleNo"] == "MH04AB1234"
    qc = client.screen("QC Inspections", "QC/25-26/00078")
    assert qc["Header"]["Batch__Name"] == "B-TIO-2510-02"
    assert client.logins == 1  # one session serves every call


def test_pull_normalises_records(make_client: MakeClient) -> None:
    client = make_client()
    order, _ = pull_one(client, "sales_orders", "SO/25-26/00002")
    assert order["date"] == "2025-10-03"
    assert order["customer_code"] == "C0002"
    assert order["status"] == "dispatched"
    assert order["lines"][1] == {
        "line_no": 2,
        "item_code": "CACO3",
        "item_name": "Calcite",
        "qty": 2000.0,
        "unit": "kg",
        "rate": 9.5,
        "amount": 19000.0,
    }
    invoices = [r for r, _ in pull_documents(client, "invoices")]
    assert [i["order_no"] for i in invoices] == ["SO/25-26/00002", "SO/25-26/00003"]
    assert invoices[0]["total"] == 365800.0 and invoices[1]["lr_no"] is None
    qc = {r["doc_no"]: r for r, _ in pull_documents(client, "qc_inspections")}
    failed = qc["QC/25-26/00078"]
    assert failed["result"] == "fail" and failed["coa_status"] == "withheld"
    assert failed["params"][0]["result"] == "White powder"
    assert failed["params"][1] == {
        "name": "Oil absorption",
        "unit": "g/100g",
        "min": 15.0,
        "max": 22.0,
        "result": 24.1,
        "pass": False,
    }


def test_date_window(make_client: MakeClient) -> None:
    import datetime as dt

    client = make_client()
    rows = list(
        client.list_documents(
            "Sales Orders", from_date=dt.date(2025, 10, 3), to_date=dt.date(2025, 10, 3)
        )
    )
    assert [r["DocNo"] for r in rows] == ["SO/25-26/00002", "SO/25-26/00003"]


def test_expired_session_is_renewed_transparently(
    simulator: FocusSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    client.screen("Sales Orders", "SO/25-26/00001")
    simulator.faults.set("expired_session")
    document = client.screen("Sales Orders", "SO/25-26/00004")
    assert document["Header"]["sStatus"] == "Cancelled"
    assert client.logins == 2 and simulator.login_count == 2


def test_session_rejected_after_relogin_is_auth_failure(world: Path, fast: dict) -> None:
    sim = FocusSimulator(world, port=0, session_ttl_s=0.0)  # every session dies at once
    sim.start()
    try:
        with FocusClient(FocusSettings(url=sim.url, **fast)) as client:
            with pytest.raises(FocusAuthError) as caught:
                client.screen("Sales Orders", "SO/25-26/00001")
        assert caught.value.code == "FOCUS_AUTH_FAILED"
        assert sim.login_count == 2  # logged in again exactly once
    finally:
        sim.stop()


def test_bad_credentials_raise_auth_failed_without_retry(
    simulator: FocusSimulator, make_client: MakeClient
) -> None:
    client = make_client(password=SecretStr("not-the-password"), retries=3)
    with pytest.raises(FocusAuthError) as caught:
        list(client.list_documents("Sales Orders"))
    assert caught.value.code == "FOCUS_AUTH_FAILED"
    assert "not-the-password" not in str(caught.value)
    assert simulator.request_count == 1


def test_unknown_document_and_voucher_type(make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(FocusNotFoundError) as caught:
        client.screen("Sales Orders", "SO/25-26/99999")
    assert caught.value.code == "FOCUS_NOT_FOUND"
    with pytest.raises(FocusNotFoundError):
        list(client.list_documents("Purchase Orders"))


def test_down_server_is_connection_failed_after_retries(
    simulator: FocusSimulator, make_client: MakeClient
) -> None:
    client = make_client(retries=2)
    simulator.faults.set("down")
    with pytest.raises(FocusConnectionError) as caught:
        client.login()
    error = caught.value
    assert error.code == "FOCUS_CONNECTION_FAILED"
    assert error.url == simulator.url
    assert simulator.request_count == 3  # first attempt and two retries


def test_nothing_listening_is_connection_failed(fast: dict) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    client = FocusClient(FocusSettings(url=f"http://127.0.0.1:{dead_port}", **fast))
    with pytest.raises(FocusConnectionError):
        client.login()


def test_slow_server_times_out_but_patient_client_succeeds(
    simulator: FocusSimulator, make_client: MakeClient
) -> None:
    simulator.faults.set("slow", delay_s=0.6)
    impatient = make_client(read_timeout_s=0.2, retries=0)
    with pytest.raises(FocusConnectionError, match="timed out"):
        impatient.login()
    patient = make_client(read_timeout_s=3.0)
    assert patient.screen("Sales Orders", "SO/25-26/00001")["Header"]["DocNo"]


@pytest.mark.parametrize("mode", ["malformed", "truncated"])
def test_unparseable_replies_are_bad_response(
    simulator: FocusSimulator, make_client: MakeClient, mode: str
) -> None:
    client = make_client(retries=1)
    client.login()
    simulator.faults.set(mode)
    with pytest.raises(FocusResponseError) as caught:
        client.screen("Sales Orders", "SO/25-26/00001")
    assert caught.value.code == "FOCUS_BAD_RESPONSE"
    simulator.faults.set("none")
    assert client.screen("Sales Orders", "SO/25-26/00001")["Header"]["DocNo"] == "SO/25-26/00001"


def test_server_side_error_is_request_failed(
    simulator: FocusSimulator, make_client: MakeClient
) -> None:
    client = make_client()
    client.login()
    simulator.faults.set("lineerror")
    with pytest.raises(FocusRequestError) as caught:
        client.screen("Sales Orders", "SO/25-26/00001")
    assert caught.value.code == "FOCUS_REQUEST_FAILED"


def test_transient_failure_recovers_on_retry(
    simulator: FocusSimulator, make_client: MakeClient
) -> None:
    import threading

    client = make_client(retries=3, backoff_s=0.4, backoff_max_s=0.4)
    simulator.faults.set("down")
    threading.Timer(0.05, simulator.faults.set, args=("none",)).start()
    assert client.login()  # the first attempt is dropped, a retry gets through
    assert simulator.request_count >= 2 and client.breaker.state == "closed"


def test_circuit_breaker_opens_then_recovers(
    simulator: FocusSimulator, make_client: MakeClient
) -> None:
    client = make_client(retries=0, breaker_failures=2, breaker_cooldown_s=0.3)
    simulator.faults.set("down")
    for _ in range(2):
        with pytest.raises(FocusConnectionError):
            client.login()
    sent = simulator.request_count
    with pytest.raises(FocusConnectionError, match="circuit open") as caught:
        client.login()
    assert simulator.request_count == sent  # refused locally, the server was spared
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 0.3
    simulator.faults.set("none")
    time.sleep(0.35)
    assert client.login()
    assert client.breaker.state == "closed"


def test_circuit_breaker_half_open_failure_reopens() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown_s=10, clock=lambda: now[0])
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 10.5
    assert breaker.state == "half-open" and breaker.allow()
    breaker.record_failure()  # the trial call failed
    assert breaker.state == "open" and breaker.retry_after() == 10


def test_field_map_decides_which_fields_are_read(world: Path, fast: dict) -> None:
    tenant = {"doc_no": "VoucherNo", "date": "dVoucherDate", "customer_name": "Party__Name"}
    sim = FocusSimulator(
        world, port=0, field_map=tenant, voucher_types={"sales_orders": "Customer Orders"}
    )
    sim.start()
    try:
        stock = FocusSettings(
            url=sim.url, voucher_types={"sales_orders": "Customer Orders"}, **fast
        )
        with FocusClient(stock) as client, pytest.raises(FocusFieldError, match="VoucherNo|DocNo"):
            list(pull_documents(client, "sales_orders"))
        configured = FocusSettings(
            url=sim.url,
            voucher_types={"sales_orders": "Customer Orders"},
            field_map=tenant,
            **fast,
        )
        with FocusClient(configured) as client:
            records = [r for r, _ in pull_documents(client, "sales_orders")]
        assert records[0]["doc_no"] == "SO/25-26/00001"
        assert records[0]["date"] == "2025-10-01"
        assert records[0]["customer_name"] == "Apex Rubber Pvt Ltd"
        assert records[0]["lines"][0]["item_code"] == "ZNO-99"  # unchanged names still read
    finally:
        sim.stop()


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOCUS_URL", "http://focus.example:8080/")
    monkeypatch.setenv("FOCUS_PASSWORD", "s3cret")
    monkeypatch.setenv("FOCUS_FIELD_MAP", '{"customer_name": "Party__Name"}')
    settings = FocusSettings()
    assert settings.url == "http://focus.example:8080"
    assert settings.field_map["customer_name"] == "Party__Name"
    assert settings.field_map["doc_no"] == "DocNo"  # merged over the defaults
    assert "s3cret" not in repr(settings)
    monkeypatch.setenv("FOCUS_FIELD_MAP", '{"no_such_field": "X"}')
    with pytest.raises(ValueError, match="unknown canonical fields"):
        FocusSettings()
