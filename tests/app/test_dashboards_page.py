"""The managers' dashboards: a manager sees every tab filled, every other role is refused,
and the figures the page shows equal KPIs computed here independently.

The KPI marts are built by the real dbt models (``dbt run``) from inputs written here: the
mail marts from thread messages, cards and people's card events (``pebble.events``), the
receivables ageing from receivables rows and the CRM's placement of their parties, the
conversion and demand marts from deals. Other marts the page reads (deal_pipeline,
stock_history, qc_batches, qc_alerts, email_cards) are filled from their contracts. The
expected figures are computed in Python from the same inputs - percentiles by linear
interpolation, buckets from the invoice dates - never read back from a KPI mart.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from app.dashboards import figures, queries
from app.dashboards.queries import Period
from pebble import db, events
from pebble.auth import User
from tests.app.conftest import mart, staging_views

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "pages" / "dashboards.py")
DBT = Path(sys.executable).parent / "dbt"
IST = timezone(timedelta(hours=5, minutes=30))
AS_OF = date(2025, 12, 31)
START, END = date(2025, 12, 1), date(2025, 12, 31)
MANAGER = User("manisha", "manager")
KPI_MODELS = ("kpi_mail_daily", "kpi_backlog_daily", "kpi_first_response",
              "kpi_conversion_daily", "kpi_demand_vs_stock", "kpi_receivables_ageing")  # fmt: skip
STREAMS = ("crm", "erp", "tender")
PEOPLE = ("priya", "ravi", None)
PRODUCTS = ("Zinc Oxide", "Caustic Soda", "Alum")
REGIONS = ("Gujarat", "Maharashtra")


def _round1(value: float) -> float:
    """PostgreSQL's round(numeric, 1): half away from zero."""
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _percentile(values: list[float], fraction: float) -> float:
    """percentile_cont: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _inputs(conn: psycopg.Connection) -> dict[str, Any]:
    """Write the dbt models' inputs and the marts the page reads as they are; return the
    rows the expectations are computed from."""
    rng = random.Random(12)
    conn.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
    conn.execute("CREATE SCHEMA IF NOT EXISTS staging")
    staging_views(conn, "stg_ops__events")

    # --- mail: 40 threads, most answered, people moving some cards --------------------------
    cards, messages, moves, replies = [], [], [], []
    for n in range(40):
        card_id = f"T{n:02d}"
        stream, person = STREAMS[n % 3], PEOPLE[n % 3]
        first = datetime(2025, 12, 1 + n % 20, 9, 0, tzinfo=IST) + timedelta(minutes=7 * n)
        cards.append({
            "card_id": card_id, "thread_key": card_id, "mailbox": "sales",
            "subject": f"Enquiry {n}", "stream": stream, "intent": "price_enquiry",
            "assignee": person, "company_key": f"pan:C{n % 5}", "company_name": f"Customer {n % 5}",
            "requires_review": n % 4 == 0, "confidence": 0.55, "status": "new",
            "last_message_at": first, "message_count": 2, "inbound_count": 1,
            "outbound_count": 1, "reclassified": False, "attachment_count": 0,
        })  # fmt: skip
        messages.append({"email_key": f"{card_id}-in", "thread_key": card_id, "is_outbound": False,
                         "occurred_at": first, "occurred_on": first.date(), "mailbox": "sales",
                         "stream": stream, "intent": "price_enquiry",
                         "from_address": f"buyer{n}@c.in"})  # fmt: skip
        if n % 5 != 4:  # one in five never answered
            minutes = rng.randint(3, 3000)
            at = first + timedelta(minutes=minutes)
            messages.append({"email_key": f"{card_id}-out", "thread_key": card_id,
                             "is_outbound": True, "occurred_at": at,
                             "occurred_on": at.astimezone(IST).date(), "mailbox": "sales",
                             "stream": stream, "intent": None,
                             "from_address": "sales@pebbledemo.in"})  # fmt: skip
            if n % 7 == 0:  # answered from the app before the outbound copy landed
                replies.append((card_id, first + timedelta(minutes=max(1, minutes // 2))))
        if n % 6 == 1:
            moves.append((card_id, ["in_progress"]))
        elif n % 6 == 2:
            moves.append((card_id, ["in_progress", "done"]))
        elif n % 6 == 3:
            moves.append((card_id, ["quoted"]))
        elif n % 6 == 5:
            moves.append((card_id, ["spam"]))
    status = {c["card_id"]: "new" for c in cards}
    for card_id, path in moves:
        for version, to in enumerate(path):
            when = datetime(2025, 12, 22, 10, 0, tzinfo=IST) + timedelta(hours=version)
            events.append(conn, events.new_event("CardMoved", card_id, actor="priya",
                          payload={"to": to}, occurred_at=when), version)  # fmt: skip
            status[card_id] = to
    versions = Counter({card_id: len(path) for card_id, path in moves})
    for card_id, when in replies:
        event = events.new_event(
            "ReplySent",
            card_id,
            actor="priya",
            payload={"email_key": f"{card_id}-sent"},
            occurred_at=when,
        )
        events.append(conn, event, versions[card_id])  # fmt: skip
    for card in cards:
        card["status"] = status[card["card_id"]]
    mart(conn, "email_cards", cards)
    conn.execute(
        "CREATE TABLE intermediate.int_sales__messages (email_key text, thread_key text,"
        " is_outbound boolean, occurred_at timestamptz, occurred_on date, mailbox text,"
        " stream text, intent text, from_address text)"
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO intermediate.int_sales__messages VALUES (%(email_key)s, %(thread_key)s,"
            " %(is_outbound)s, %(occurred_at)s, %(occurred_on)s, %(mailbox)s, %(stream)s,"
            " %(intent)s, %(from_address)s)",
            messages,
        )

    # --- receivables: 30 invoices of five customers, one party the CRM cannot place ---------
    receivables = []
    for n in range(30):
        invoice_date = AS_OF - timedelta(
            days=rng.choice([0, 12, 30, 31, 45, 60, 61, 75, 90, 91, 140])
        )
        amount = Decimal(rng.randint(10_000, 900_000)) + Decimal("0.35")
        paid = amount if n % 6 == 0 else (Decimal(5_000) if n % 6 == 1 else Decimal(0))
        due = invoice_date + timedelta(days=30)
        outstanding = amount - paid
        receivables.append({
            "invoice_no": f"INV-{n:03d}", "source_system": "focus" if n % 2 else "tally",
            "invoice_date": invoice_date, "due_date": due, "as_of_date": AS_OF,
            "company_name": f"Customer {n % 6}", "gstin": f"24AAACC{n % 6}000A1Z{n % 6}",
            "amount_inr": amount, "paid_inr": paid, "outstanding_inr": outstanding,
            "days_overdue": max((AS_OF - due).days, 0) if outstanding > 0 else 0,
            "payment_status": "paid" if outstanding == 0 else ("part-paid" if paid else "unpaid"),
        })  # fmt: skip
    mart(conn, "receivables", receivables)
    # customers 0-4 are CRM companies (their Tally ledger carries their GSTIN); 5 is not
    mart(conn, "crm_company_sources", [
        {"company_key": f"pan:C{k}", "source_system": "tally", "source_id": f"L{k}",
         "rule": "gstin", "score": 1} for k in range(5)])  # fmt: skip
    mart(conn, "crm_companies", [
        {"company_key": f"pan:C{k}", "name": f"Customer {k} Pvt Ltd", "gstins": [],
         "gstin_states": ["Gujarat"]} for k in range(5)])  # fmt: skip
    conn.execute(
        "CREATE TABLE intermediate.int_crm__source_records (source_system text, source_id text,"
        " name text, gstins text[])"
    )
    for k in range(5):
        conn.execute(
            "INSERT INTO intermediate.int_crm__source_records VALUES ('tally', %s, %s, %s)",
            (f"L{k}", f"Customer {k} Pvt Ltd", [f"24AAACC{k}000A1Z{k}"]),
        )
    conn.execute("CREATE TABLE staging.stg_focus__invoices (invoice_no text, customer_code text)")

    # --- deals, stock and quality ------------------------------------------------------------
    deals = []
    for n in range(60):
        stage = ("enquiry", "quoted", "sample", "ordered", "won", "lost")[n % 6]
        ordered = stage in ("ordered", "won")
        deals.append({
            "deal_key": f"deal:{n}", "thread_key": f"T{n % 40:02d}",
            "company_key": f"pan:C{n % 5}", "company_name": f"Customer {n % 5}",
            "region": REGIONS[n % 2], "product": PRODUCTS[n % 3],
            "qty_kg": Decimal(100 * (n + 1)), "value_inr": Decimal(1000 * (n + 1)),
            "stage": stage, "is_open": stage not in ("won", "lost"),
            "enquiry_at": datetime(2025, 12, 1 + n % 28, 10, tzinfo=IST),
            "enquiry_on": date(2025, 12, 1 + n % 28),
            "quoted_at": datetime(2025, 12, 1 + n % 28, 12, tzinfo=IST) if n % 6 else None,
            "sales_order_no": f"SO-{n}" if ordered else None,
        })  # fmt: skip
    mart(conn, "deal_pipeline", deals)
    mart(conn, "stock_levels", [
        {"stock_item_guid": "g-zno", "product_name": "Zinc Oxide", "closing_qty_kg": 50,
         "as_of": datetime(2025, 12, 30, tzinfo=UTC)},
        {"stock_item_guid": "g-cs", "product_name": "Caustic Soda", "closing_qty_kg": 90_000,
         "as_of": datetime(2025, 12, 30, tzinfo=UTC)},
    ])  # fmt: skip
    mart(conn, "stock_history", [
        {"stock_history_key": f"g-zno@{d}", "synced_at": datetime(2025, 12, d, tzinfo=UTC),
         "stock_item_guid": "g-zno", "product_name": "Zinc Oxide", "unit": "kg",
         "closing_qty": 1000 - 30 * d, "closing_qty_kg": 1000 - 30 * d}
        for d in (1, 10, 20, 30)])  # fmt: skip
    batches = [{"batch_key": f"B{n}", "batch_no": f"B{n}", "product_name": PRODUCTS[n % 3],
                "inspection_date": date(2025, 12, 1 + n), "passed": n % 4 != 0}
               for n in range(20)]  # fmt: skip
    mart(conn, "qc_batches", batches)
    alerts = [{"alert_id": f"out_of_spec:B{n}:1", "alert_type": "out_of_spec", "batch_no": f"B{n}",
               "product_name": PRODUCTS[n % 3], "alerted_on": date(2025, 12, 1 + n),
               "detail": f"Assay below spec on B{n}"} for n in (0, 4, 8)]  # fmt: skip
    mart(conn, "qc_alerts", alerts)
    events.append(conn, events.new_event(
        "QCAlertAcknowledged", "out_of_spec:B0:1", actor="qasim",
        payload={"alert_type": "out_of_spec", "note": "retested, fine", "batch_no": "B0"}), 0)  # fmt: skip
    return {"cards": cards, "messages": messages, "replies": dict(replies), "status": status,
            "receivables": receivables, "deals": deals, "batches": batches,
            "alerts": alerts}  # fmt: skip


def _dbt_run(url: str, tmp_path: Path) -> None:
    """The real KPI models, on the inputs above (their upstream models are not run)."""
    env = dict(os.environ, **db.dbt_env(url), PEBBLE_TIMEZONE="Asia/Kolkata",
               DBT_SEND_ANONYMOUS_USAGE_STATS="false")  # fmt: skip
    done = subprocess.run(
        [str(DBT), "run", "--select", *KPI_MODELS, "--vars",
         json.dumps({"erp_as_of_date": AS_OF.isoformat()}),
         "--target-path", str(tmp_path / "dbt-target"), "--log-path", str(tmp_path / "dbt-logs")],
        cwd=ROOT / "dbt", env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.fixture
def world(warehouse: psycopg.Connection, pebble_env: str, tmp_path: Path) -> dict[str, Any]:
    rows = _inputs(warehouse)
    _dbt_run(pebble_env, tmp_path)
    return rows


def _page(user: User | None = MANAGER, **params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if user is not None:
        at.session_state["pebble_user"] = user
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _tables(at: AppTest) -> dict[str, pd.DataFrame]:
    """Every table by name: each is followed by its CSV download (``dash_csv_<name>``), so
    the n-th table is the n-th download's (AppTest does not expose a dataframe's key)."""
    keys = [b.key.removeprefix("dash_csv_") for b in at.get("download_button")]
    assert len(keys) == len(at.dataframe)
    return {k: d.value for k, d in zip(keys, at.dataframe, strict=True)}


def _table(at: AppTest, name: str) -> pd.DataFrame:
    return _tables(at)[name]


# --- expectations, computed from the inputs ----------------------------------------------


def _expected_first_response(rows: dict[str, Any]) -> dict[str, dict[str, Any]]:
    first_in: dict[str, datetime] = {}
    first_out: dict[str, datetime] = {}
    for m in sorted(rows["messages"], key=lambda m: m["occurred_at"]):
        if not m["is_outbound"]:
            first_in.setdefault(m["thread_key"], m["occurred_at"])
    for m in sorted(rows["messages"], key=lambda m: m["occurred_at"]):
        if m["is_outbound"] and m["occurred_at"] > first_in[m["thread_key"]]:
            first_out.setdefault(m["thread_key"], m["occurred_at"])
    minutes: dict[str, list[float]] = defaultdict(list)
    cards: Counter[str] = Counter()
    for card in rows["cards"]:
        key = card["card_id"]
        if not START <= first_in[key].astimezone(IST).date() <= END:
            continue
        cards[card["stream"]] += 1
        answers = [t for t in (first_out.get(key), rows["replies"].get(key)) if t is not None]
        if answers:
            minutes[card["stream"]].append(
                _round1((min(answers) - first_in[key]).total_seconds() / 60)
            )
    return {
        stream: {
            "cards": cards[stream],
            "responded": len(minutes[stream]),
            "median_minutes": _round1(_percentile(minutes[stream], 0.5)),
            "p90_minutes": _round1(_percentile(minutes[stream], 0.9)),
        }
        for stream in cards
    }


def _expected_ageing(rows: dict[str, Any]) -> dict[str, tuple[int, Decimal, Decimal]]:
    out = {b: (0, Decimal(0), Decimal(0)) for b in queries.AGEING_BUCKETS}
    for r in rows["receivables"]:
        if r["outstanding_inr"] <= 0:
            continue
        age = (AS_OF - r["invoice_date"]).days
        bucket = "0-30" if age <= 30 else "31-60" if age <= 60 else "61-90" if age <= 90 else ">90"
        count, outstanding, overdue = out[bucket]
        late = r["outstanding_inr"] if AS_OF > r["due_date"] else Decimal(0)
        out[bucket] = (count + 1, outstanding + r["outstanding_inr"], overdue + late)
    return out


#: What each dashboard shows: its sections (subheaders) and its tables.
SECTIONS = {
    "Mail": ["Volume by stream and intent", "Backlog per column and age", "First response time",
             "Cards that need review"],
    "Commercial": ["Pipeline by stage", "Enquiry-to-order conversion", "Top customers by value",
                   f"Receivables ageing (as of {AS_OF})"],
    "Stock": ["Products asked about against stock on hand", "Low stock with open enquiries",
              "Stock history of a product"],
    "Quality": ["Pass rate", "Open alerts"],
}  # fmt: skip


def test_manager_sees_every_tab_with_data(world: dict[str, Any]) -> None:
    tables: dict[str, pd.DataFrame] = {}
    charts = 0
    for tab, sections in SECTIONS.items():
        at = _page(tab=tab, **{"from": START.isoformat(), "to": END.isoformat()})
        assert not at.exception, (tab, at.exception)
        assert [t.label for t in at.tabs] == list(SECTIONS)
        assert not [i.value for i in at.info if "Not built yet" in i.value], tab
        # only the open dashboard is computed and sent
        assert [h.value for h in at.subheader] == sections, tab
        shown = _tables(at)  # every table has its CSV download
        assert shown and not set(shown) & set(tables), tab
        tables |= shown
        assert at.get("plotly_chart"), tab
        charts += len(at.get("plotly_chart"))
        # the URL carries the tab and the range, so the view can be shared
        # (the default, Mail, may be left out of the URL)
        assert at.query_params.get("tab", "Mail") in (tab, [tab]), tab
        assert "from" in at.query_params and "to" in at.query_params
    assert len(tables) >= 15 and charts >= 14
    empty = [name for name, frame in tables.items() if frame.empty]
    assert not empty, empty
    # customers link to their Company 360 page
    top = tables["top_customers"]
    assert set(top["company_page"].dropna()) <= {f"company?key=pan%3AC{k}" for k in range(5)}
    assert top["company_page"].notna().sum() == 5
    assert tables["cards_needing_review"]["card_page"].str.startswith("card?card=T").all()


def test_other_roles_are_refused(world: dict[str, Any]) -> None:
    for user in (User("priya", "sales"), User("ravi", "ops"), User("qasim", "qc"),
                 User("meera", "marketing"), User("arjun", "admin"), None):  # fmt: skip
        at = _page(user)
        assert not at.exception, user
        assert [e.value for e in at.error] + [w.value for w in at.warning], user
        assert not at.tabs and not at.dataframe and not at.metric, user
        assert not at.get("plotly_chart"), user
        assert "Customer 1" not in str(at.main), user


def test_figures_agree_with_kpis_computed_independently(
    world: dict[str, Any], warehouse: psycopg.Connection
) -> None:
    period = Period(START, END)
    span = {"from": START.isoformat(), "to": END.isoformat()}
    at = _page(tab="Mail", **span)
    assert not at.exception

    # first response, per stream: median and 90th percentile of the answered cards
    expected = _expected_first_response(world)
    by_stream = queries.first_response(warehouse, period, "stream").set_index("stream")
    shown = _table(at, "first_response_by_stream").set_index("stream")
    for stream, figures_ in expected.items():
        for column, value in figures_.items():
            assert by_stream.loc[stream, column] == value, (stream, column)
            assert shown.loc[stream, column] == value, (stream, column)

    # backlog at the end of the range: each open card in its column (done and spam are not)
    backlog = Counter(s for s in world["status"].values() if s not in ("done", "spam"))
    shown_backlog = _table(at, "backlog").groupby("column")["cards"].sum().to_dict()
    assert shown_backlog == dict(backlog)
    assert _metrics(at)["Backlog cards"] == f"{sum(backlog.values()):,}"

    # mail volume: customer messages per stream
    volume = Counter(m["stream"] for m in world["messages"] if not m["is_outbound"])
    shown_volume = _table(at, "mail_volume").groupby("stream")["messages"].sum().to_dict()
    assert shown_volume == dict(volume)

    at = _page(tab="Commercial", **span)
    assert not at.exception
    # receivables ageing: 0-30, 31-60, 61-90, >90 days from the invoice date
    ageing = _expected_ageing(world)
    shown_ageing = _table(at, "receivables_ageing").set_index("ageing_bucket")
    for bucket, (count, outstanding, overdue) in ageing.items():
        assert shown_ageing.loc[bucket, "invoices"] == count, bucket
        assert Decimal(str(shown_ageing.loc[bucket, "outstanding_inr"])) == outstanding, bucket
        assert Decimal(str(shown_ageing.loc[bucket, "overdue_inr"])) == overdue, bucket
    assert ageing[">90"][0] > 0 and ageing["0-30"][0] > 0  # the fixture spans the buckets
    total = sum(v[1] for v in ageing.values())
    assert _metrics(at)["Outstanding receivables"] == figures.format_inr(total)

    # top customers: invoiced value per CRM company, the unplaced party by its own name
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    for r in world["receivables"]:
        if not START <= r["invoice_date"] <= END:
            continue
        name = r["company_name"]
        invoiced[f"{name} Pvt Ltd" if name != "Customer 5" else name] += r["amount_inr"]
    top = _table(at, "top_customers").set_index("customer")
    assert {k: Decimal(str(v)) for k, v in top["invoiced_inr"].items()} == dict(invoiced)

    # enquiry-to-order conversion per product
    deals = defaultdict(lambda: [0, 0])
    for d in world["deals"]:
        deals[d["product"]][0] += 1
        deals[d["product"]][1] += d["sales_order_no"] is not None
    conversion = queries.conversion(warehouse, period, "product").set_index("product")
    for product, (enquiries, ordered) in deals.items():
        assert conversion.loc[product, "enquiries"] == enquiries
        assert conversion.loc[product, "conversion_rate"] == round(ordered / enquiries, 4)

    at = _page(tab="Quality", **span)
    assert not at.exception
    # quality: pass rate of the batches inspected, and alerts nobody acknowledged
    inspected = [b for b in world["batches"] if START <= b["inspection_date"] <= END]
    passed = sum(b["passed"] for b in inspected)
    assert _metrics(at)["Pass rate"] == f"{passed / len(inspected):.1%}"
    assert list(_table(at, "qc_open_alerts")["alert_id"]) == [
        "out_of_spec:B8:1",
        "out_of_spec:B4:1",
    ]


def test_filters_narrow_the_figures(world: dict[str, Any]) -> None:
    at = _page(**{"from": START.isoformat(), "to": END.isoformat(), "stream": "erp",
                  "region": "Gujarat"})  # fmt: skip
    assert not at.exception
    assert set(_table(at, "mail_volume")["stream"]) == {"erp"}
    assert set(_table(at, "first_response_by_stream")["stream"]) == {"erp"}
    at = _page(tab="Commercial", **{"from": START.isoformat(), "to": END.isoformat(),
                                    "region": "Gujarat"})  # fmt: skip
    conversion = _table(at, "conversion_by_product_region")
    assert set(conversion["region"]) == {"Gujarat"}
    gujarat = [d for d in world["deals"] if d["region"] == "Gujarat"]
    assert conversion["enquiries"].sum() == len(gujarat)
    # a narrower period: only the enquiries of its days
    narrow = _page(tab="Commercial", **{"from": "2025-12-01", "to": "2025-12-05"})
    stages = _table(narrow, "pipeline_by_stage")
    assert stages["deals"].sum() == sum(
        date(2025, 12, 1) <= d["enquiry_on"] <= date(2025, 12, 5) for d in world["deals"]
    )
    # stock history: the syncs in the period, or every sync when the period has none
    stock = _page(tab="Stock", **{"from": "2025-12-05", "to": "2025-12-25"})
    assert list(_table(stock, "stock_history")["closing_qty_kg"]) == [700.0, 400.0]
    stock = _page(tab="Stock", **{"from": "2025-12-02", "to": "2025-12-05"})
    assert len(_table(stock, "stock_history")) == 4
    assert any("every sync" in c.value for c in stock.caption)


def test_csv_is_the_table_shown_and_amounts_read_in_lakhs() -> None:
    frame = pd.DataFrame({"customer": ["A, B & Co"], "invoiced_inr": [386400.5]})
    assert pd.read_csv(pd.io.common.BytesIO(figures.csv_bytes(frame))).equals(frame)
    assert figures.format_inr(386400) == "₹3,86,400"
    assert figures.format_inr(12345678.4) == "₹1,23,45,678"
    assert figures.format_inr(-999) == "-₹999"
    assert figures.company_url("pan:AB&C") == "company?key=pan%3AAB%26C"
    config = figures.png_config("ageing")
    assert config["toImageButtonOptions"]["format"] == "png"


def test_before_the_marts_are_built_the_page_says_so(warehouse: psycopg.Connection) -> None:
    waiting = []
    for tab in SECTIONS:
        at = _page(tab=tab)
        assert not at.exception
        assert [t.label for t in at.tabs] == list(SECTIONS)
        waiting += [i.value for i in at.info if i.value.startswith("Not built yet")]
        assert not at.dataframe and not at.get("plotly_chart")
    assert len(waiting) == 4 and "kpi_receivables_ageing" in " ".join(waiting)
