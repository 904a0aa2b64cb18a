"""The simulator speaks Focus8API over real HTTP: login, sessions, list, screen, faults."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from demo.sim.focus import FocusSimulator
from ingest.focus.parse import encode_focus_date, parse_focus_date
from ingest.focus.settings import DEMO_COMPANY_ID, DEMO_PASSWORD, DEMO_USERNAME

LOGIN = {
    "data": [{"Username": DEMO_USERNAME, "password": DEMO_PASSWORD, "CompanyId": DEMO_COMPANY_ID}]
}


def _login(url: str) -> str:
    reply = requests.post(f"{url}/Focus8API/Login", json=LOGIN, timeout=5).json()
    assert reply["result"] == 1, reply
    return reply["data"][0]["fSessionId"]


def test_login_returns_session_and_bad_credentials_fail_with_http_200(
    simulator: FocusSimulator,
) -> None:
    session = _login(simulator.url)
    assert len(session) >= 16
    bad = {"data": [{**LOGIN["data"][0], "password": "wrong"}]}
    response = requests.post(f"{simulator.url}/Focus8API/Login", json=bad, timeout=5)
    assert response.status_code == 200
    assert response.json()["result"] == -1
    assert "Password" in response.json()["message"]


def test_calls_without_or_with_unknown_session_are_refused(simulator: FocusSimulator) -> None:
    url = f"{simulator.url}/Focus8API/List/Transactions/Sales%20Orders"
    assert requests.get(url, timeout=5).json()["result"] == -1
    reply = requests.get(url, headers={"fSessionId": "nope"}, timeout=5).json()
    assert reply == {"data": [], "result": -1, "message": "Invalid session"}


def test_list_pages_and_filters_by_date(simulator: FocusSimulator) -> None:
    headers = {"fSessionId": _login(simulator.url)}
    url = f"{simulator.url}/Focus8API/List/Transactions/Sales%20Orders"
    everything = requests.get(url, headers=headers, timeout=5).json()
    assert everything["totalCount"] == 5
    assert [r["DocNo"] for r in everything["data"]][:2] == ["SO/25-26/00001", "SO/25-26/00002"]
    page2 = requests.get(url, headers=headers, params={"pageNo": 2, "pageSize": 2}, timeout=5)
    assert [r["DocNo"] for r in page2.json()["data"]] == ["SO/25-26/00003", "SO/25-26/00004"]
    window = requests.get(
        url, headers=headers, params={"fromDate": "20251003", "toDate": "20251010"}, timeout=5
    ).json()
    dates = {parse_focus_date(r["Date"]).isoformat() for r in window["data"]}
    assert dates == {"2025-10-03", "2025-10-10"} and window["totalCount"] == 3
    bad = requests.get(url, headers=headers, params={"fromDate": "3rd Oct"}, timeout=5).json()
    assert bad["result"] == -1 and "fromDate" in bad["message"]


def test_screen_returns_header_body_footer_for_encoded_doc_no(simulator: FocusSimulator) -> None:
    headers = {"fSessionId": _login(simulator.url)}
    url = f"{simulator.url}/Focus8API/Screen/Transactions/Sales%20Orders/SO%2F25-26%2F00002"
    reply = requests.get(url, headers=headers, timeout=5).json()
    assert reply["result"] == 1
    document = reply["data"][0]
    assert document["Header"]["DocNo"] == "SO/25-26/00002"
    assert document["Header"]["Date"] == 2025 * 65536 + 10 * 256 + 3
    assert document["Header"]["CustomerAC__Name"] == "Shree Ganesh Paints & Coatings"
    assert [line["Item__Code"] for line in document["Body"]] == ["TIO2-R", "CACO3"]
    assert document["Body"][0]["Unit__Id"] == 1
    assert document["Footer"][0]["NetAmount"] == 310000.0 + 19000.0


def test_unknown_voucher_type_or_document_is_result_minus_one(simulator: FocusSimulator) -> None:
    headers = {"fSessionId": _login(simulator.url)}
    base = f"{simulator.url}/Focus8API"
    unknown_type = requests.get(f"{base}/List/Transactions/Purchase%20Orders", headers=headers)
    assert unknown_type.json()["result"] == -1
    assert "not found" in unknown_type.json()["message"]
    missing = requests.get(
        f"{base}/Screen/Transactions/Sales%20Orders/SO%2F25-26%2F99999", headers=headers
    )
    assert missing.status_code == 200 and missing.json()["result"] == -1


def test_sessions_expire_after_ttl(world: Path) -> None:
    sim = FocusSimulator(world, port=0, session_ttl_s=0.2)
    url = sim.start()
    try:
        headers = {"fSessionId": _login(url)}
        list_url = f"{url}/Focus8API/List/Transactions/QC%20Inspections"
        assert requests.get(list_url, headers=headers, timeout=5).json()["result"] == 1
        time.sleep(0.3)
        reply = requests.get(list_url, headers=headers, timeout=5).json()
        assert reply["result"] == -1 and "expired" in reply["message"].lower()
    finally:
        sim.stop()


def test_fault_control_endpoint_switches_modes(simulator: FocusSimulator) -> None:
    control = f"{simulator.url}/__faults"
    assert requests.get(control, timeout=5).json()["mode"] == "none"
    rejected = requests.post(control, json={"mode": "exploded"}, timeout=5)
    assert rejected.status_code == 400 and "unknown fault mode" in rejected.json()["error"]

    login_url = f"{simulator.url}/Focus8API/Login"
    requests.post(control, json={"mode": "malformed"}, timeout=5)
    with pytest.raises(ValueError):
        requests.post(login_url, json=LOGIN, timeout=5).json()

    requests.post(control, json={"mode": "down"}, timeout=5)
    with pytest.raises(requests.ConnectionError):
        requests.post(login_url, json=LOGIN, timeout=5)

    requests.post(control, json={"mode": "slow", "delay_s": 0.3}, timeout=5)
    started = time.monotonic()
    assert requests.post(login_url, json=LOGIN, timeout=5).json()["result"] == 1
    assert time.monotonic() - started >= 0.3

    requests.post(control, json={"mode": "none"}, timeout=5)
    assert requests.post(login_url, json=LOGIN, timeout=5).json()["result"] == 1


def test_expired_session_fault_expires_existing_sessions_only(simulator: FocusSimulator) -> None:
    old = {"fSessionId": _login(simulator.url)}
    requests.post(f"{simulator.url}/__faults", json={"mode": "expired_session"}, timeout=5)
    url = f"{simulator.url}/Focus8API/List/Transactions/Sales%20Invoices"
    assert "expired" in requests.get(url, headers=old, timeout=5).json()["message"].lower()
    new = {"fSessionId": _login(simulator.url)}
    assert requests.get(url, headers=new, timeout=5).json()["result"] == 1


def test_custom_tenant_names_are_served(world: Path) -> None:
    sim = FocusSimulator(
        world,
        port=0,
        field_map={"doc_no": "VoucherNo", "customer_name": "Party__Name"},
        voucher_types={"sales_orders": "Customer Orders"},
    )
    url = sim.start()
    try:
        headers = {"fSessionId": _login(url)}
        reply = requests.get(
            f"{url}/Focus8API/Screen/Transactions/Customer%20Orders/SO%2F25-26%2F00001",
            headers=headers,
            timeout=5,
        ).json()
        header = reply["data"][0]["Header"]
        assert header["VoucherNo"] == "SO/25-26/00001" and "DocNo" not in header
        assert header["Party__Name"] == "Apex Rubber Pvt Ltd"
        assert header["Date"] == encode_focus_date(parse_focus_date("2025-10-01"))
    finally:
        sim.stop()


def test_bad_world_line_is_reported_with_its_place(tmp_path: Path) -> None:
    (tmp_path / "sales_orders.jsonl").write_text(
        '{"doc_no": "SO/1", "date": "2025-10-01"}\n{oops\n'
    )
    with pytest.raises(ValueError, match=r"sales_orders.jsonl:2"):
        FocusSimulator(tmp_path, port=0)
    with pytest.raises(ValueError, match="not found"):
        FocusSimulator(tmp_path / "missing", port=0)
