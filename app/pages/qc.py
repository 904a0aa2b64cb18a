"""Quality control: batch purity against spec with control limits, sample throughput, COA
status per dispatched batch, the alerts of ``marts.qc_alerts`` and a batch's certificate of
analysis as a PDF.

QC (role ``qc``) acknowledges alerts, each an event with who and a note; a manager reads
and changes nothing (``app.qc.alerts.acknowledge`` checks the role again on the server).
Queries, figures and the PDF live in ``app.qc``; this page only draws them. The product,
parameter, period and batch are kept in the URL's query parameters, so a view can be
shared. Every table exports to CSV, every chart to PNG (its toolbar). ERP text is shown in
dataframes and plain text, never as Markdown or HTML.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote
from zoneinfo import ZoneInfo

import polars as pl
import psycopg
import streamlit as st
from streamlit.errors import StreamlitAPIException

from app.auth import require_role
from app.qc import coa, figures, queries
from app.qc.alerts import ACKNOWLEDGERS, AlertError, acknowledge, conflict_message
from pebble import db
from pebble.auth import NotAllowed
from pebble.events import VersionConflict
from pebble.settings import get_settings

user = require_role("qc", "manager")
can_acknowledge = user.role in ACKNOWLEDGERS
TZ = ZoneInfo(get_settings().timezone)
COMPANY_PAGE = "pages/company.py"
ALERT_TYPES = {"out_of_spec": "out of spec", "drift": "drift towards a limit",
               "coa_pending": "COA overdue"}  # fmt: skip

st.title("Quality control")


def _csv(frame: pl.DataFrame, name: str, key: str) -> None:
    """A CSV download of exactly the table shown."""
    st.download_button(
        "Export CSV",
        data=frame.write_csv(),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
    )


def _chart(figure, name: str, key: str) -> None:
    st.plotly_chart(figure, key=key, config=figures.png_config(name))


def _company_links(frame: pl.DataFrame) -> pl.DataFrame:
    """A ``company_page`` column: the company page's URL of each row's company."""
    return frame.with_columns(
        pl.col("company_key")
        .map_elements(lambda k: "company?key=" + quote(k, safe=""), return_dtype=pl.String)
        .alias("company_page")
    )


LINKS = {"company_page": st.column_config.LinkColumn("company", display_text="open company")}


def _param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value if value else None


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(st.query_params.get(name, ""))
    except ValueError:
        return None


conn = psycopg.connect(db.warehouse_url(), autocommit=True, connect_timeout=10)
try:
    built = queries.marts_built(conn)
    if not all(built.values()):
        missing = ", ".join(f"marts.{name}" for name, ok in built.items() if not ok)
        st.info(
            f"The QC marts are not built yet (they follow the first Focus RT landing): {missing}."
        )
        st.stop()

    if saved := st.session_state.pop("qc_saved", None):
        st.success(saved)

    # --- filters (kept in the URL) ---------------------------------------------------------
    first, last = queries.data_range(conn)
    default = queries.default_period(conn)
    start = _day("from") or default.start
    end = _day("to") or default.end
    chosen = st.date_input(
        "Period (inspection days)",
        value=(start, end),
        min_value=min(first or start, start),
        max_value=max(last or end, end),
        key="qc_period",
    )
    if isinstance(chosen, tuple) and len(chosen) == 2:
        start, end = chosen
    period = queries.Period(start, end)
    st.query_params["from"], st.query_params["to"] = start.isoformat(), end.isoformat()

    counts = queries.alert_counts(conn)
    columns = st.columns(len(ALERT_TYPES) + 1)
    columns[0].metric("Open alerts", sum(counts.values()))
    for column, (kind, label) in zip(columns[1:], ALERT_TYPES.items(), strict=True):
        column.metric(label, counts.get(kind, 0))

    purity_tab, throughput_tab, coa_tab, alerts_tab, certificate_tab = st.tabs(
        ["Purity vs spec", "Throughput", "COA status", "Alerts", "Certificate of analysis"]
    )

    # --- batch purity against spec -----------------------------------------------------------
    with purity_tab:
        products = queries.products(conn)
        codes = products["product_code"].to_list()
        names = dict(zip(codes, products["product_name"].to_list(), strict=True))
        if not codes:
            st.text("No numeric QC results yet.")
        else:
            wanted = _param("product")
            product = st.selectbox(
                "Product",
                codes,
                index=codes.index(wanted) if wanted in codes else 0,
                format_func=lambda c: f"{names.get(c) or c} ({c})",
                key="qc_product",
            )
            params = queries.parameters(conn, product)
            wanted = _param("param")
            param = st.selectbox(
                "Parameter",
                params,
                index=params.index(wanted) if wanted in params else 0,
                key="qc_param",
            )
            st.query_params["product"], st.query_params["param"] = product, param
            chart = queries.control_chart(conn, product, param, period)
            if not chart.height:
                st.text("No results of this parameter in the period.")
            else:
                out_of_spec = chart.filter(~pl.col("in_spec").fill_null(True)).height
                out_of_control = chart.filter(pl.col("out_of_control").fill_null(False)).height
                st.caption(
                    f"{chart.height} results: {out_of_spec} out of spec, {out_of_control} "
                    "outside the control limits (mean ± 3σ of the previous 20 results)."
                )
                _chart(
                    figures.control_chart(chart, f"{names.get(product) or product}: {param}"),
                    f"qc-{product}-{param}",
                    "qc_control_chart",
                )
                st.dataframe(chart, hide_index=True, key="qc_control_table")
                _csv(chart, f"qc-results-{product}-{param}", "qc_control_csv")

    # --- sample throughput -------------------------------------------------------------------
    with throughput_tab:
        grain = st.radio("Per", ["day", "week"], horizontal=True, key="qc_grain")
        flow = queries.throughput(conn, period, grain)
        if not flow.height:
            st.text("No inspections in the period.")
        else:
            _chart(figures.throughput_chart(flow, grain), f"qc-inspections-per-{grain}",
                   "qc_throughput_chart")  # fmt: skip
            _chart(figures.lead_time_chart(flow, grain), f"qc-order-to-result-{grain}",
                   "qc_lead_time_chart")  # fmt: skip
            st.dataframe(flow, hide_index=True, key="qc_throughput_table")
            _csv(flow, f"qc-throughput-per-{grain}", "qc_throughput_csv")
        rates = queries.pass_rate_by_product(conn, period)
        if rates.height:
            _chart(figures.pass_rate_chart(rates), "qc-pass-rate-by-product", "qc_pass_chart")
            st.dataframe(rates, hide_index=True, key="qc_pass_table")
            _csv(rates, "qc-pass-rate-by-product", "qc_pass_csv")

    # --- COA status --------------------------------------------------------------------------
    with coa_tab:
        every = st.checkbox("Also batches not dispatched yet", key="qc_coa_all")
        status = queries.coa_status(conn, period, dispatched_only=not every)
        overdue = status.filter(pl.col("coa_overdue")).height
        pending = status.filter(
            (pl.col("coa_status").str.to_lowercase() == "pending")
            & pl.col("dispatched_on").is_not_null()
        ).height
        st.caption(
            f"{status.height} batches against an order; {pending} dispatched with the COA "
            f"pending, {overdue} of them overdue (flagged)."
        )
        if status.height:
            st.dataframe(_company_links(status), hide_index=True, column_config=LINKS,
                         key="qc_coa_table")  # fmt: skip
            _csv(status, "qc-coa-status", "qc_coa_csv")

    # --- alerts ------------------------------------------------------------------------------
    with alerts_tab:
        left, right = st.columns(2)
        kind = left.selectbox(
            "Type",
            [None, *ALERT_TYPES],
            format_func=lambda k: "all" if k is None else ALERT_TYPES[k],
            key="qc_alert_type",
        )
        with_acknowledged = right.checkbox("Show acknowledged alerts", key="qc_alert_acked")
        shown = queries.alerts(conn, include_acknowledged=with_acknowledged, alert_type=kind)
        shown_local = shown.with_columns(pl.col("acknowledged_at").dt.convert_time_zone(TZ.key))
        if shown.height:
            st.dataframe(_company_links(shown_local), hide_index=True, column_config=LINKS,
                         key="qc_alerts_table")  # fmt: skip
            _csv(shown_local, "qc-alerts", "qc_alerts_csv")
        else:
            st.text("No alerts to show.")
        open_alerts = shown.filter(pl.col("status") == "open")
        # An acknowledgement expects what was on the screen (the previous run's open alerts
        # and versions): an alert acknowledged by someone else meanwhile stays selectable,
        # and saving it is a conflict, never an acknowledgement of another alert.
        now = {
            a: (int(v), d)
            for a, v, d in open_alerts.select("alert_id", "version", "detail").iter_rows()
        }
        seen = st.session_state.get("qc_ack_seen", now)
        st.session_state["qc_ack_seen"] = now
        offered = seen | {a: now[a] for a in now if a not in seen}
        if can_acknowledge and offered:
            details = {a: d for a, (_, d) in offered.items()}
            versions = {a: v for a, (v, _) in offered.items()}
            with st.form("qc_ack_form"):
                alert_id = st.selectbox(
                    "Alert to acknowledge",
                    list(details),
                    format_func=lambda a: f"{a}: {details[a]}",
                    key="qc_ack_alert",
                )
                note = st.text_input("Note (required)", key="qc_ack_note", max_chars=2000)
                if st.form_submit_button("Acknowledge"):
                    try:
                        acknowledge(conn, user, alert_id, note, int(versions[alert_id]))
                    except VersionConflict as conflict:
                        st.error("Not saved: someone acknowledged this alert first.")
                        st.text(conflict_message(conflict))
                    except NotAllowed:
                        st.error("Not saved: your role may not acknowledge alerts.")
                    except AlertError as problem:
                        st.error("Not saved.")
                        st.text(str(problem))
                    else:
                        st.session_state["qc_saved"] = f"Alert {alert_id} acknowledged."
                        st.session_state.pop("qc_ack_seen", None)
                        conn.close()
                        st.rerun()
        elif not can_acknowledge:
            st.caption("QC acknowledges alerts; managers read them.")

    # --- certificate of analysis -------------------------------------------------------------
    with certificate_tab:
        product_filter = st.session_state.get("qc_product")
        choices = queries.batches(conn, period, product_filter)
        keys = choices["batch_key"].to_list()
        wanted = _param("batch")
        if wanted and wanted not in keys:
            keys.insert(0, wanted)  # a shared link's batch, whatever the filters say
        if not keys:
            st.text("No batches of this product in the period.")
        else:
            batch_key = st.selectbox(
                "Batch",
                keys,
                index=keys.index(wanted) if wanted in keys else 0,
                key="qc_batch",
            )
            st.query_params["batch"] = batch_key
            certificate = queries.certificate(conn, batch_key)
            if certificate is None:
                st.text(f"No batch {batch_key}.")
            else:
                st.text(
                    f"{certificate.product_name} · batch {certificate.batch_no or batch_key} · "
                    f"analysed {certificate.inspection_date} · {coa.verdict_text(certificate)}"
                )
                st.dataframe(certificate.results, hide_index=True, key="qc_coa_results")
                _csv(certificate.results, f"qc-results-{batch_key}", "qc_coa_results_csv")
                st.download_button(
                    "Download COA (PDF)",
                    data=lambda: coa.certificate_pdf(certificate),  # built on the click
                    file_name=f"COA-{batch_key.replace('/', '-')}.pdf",
                    mime="application/pdf",
                    key="qc_coa_pdf",
                    on_click="ignore",
                    icon=":material/picture_as_pdf:",
                )
                company_key = certificate.company_key
                if company_key:
                    try:
                        st.page_link(COMPANY_PAGE, label="Open the customer's company page",
                                     query_params={"key": company_key})  # fmt: skip
                    except StreamlitAPIException:  # the page is not registered in this run
                        st.link_button("Open the customer's company page",
                                       "company?key=" + quote(company_key, safe=""))  # fmt: skip
finally:
    conn.close()
