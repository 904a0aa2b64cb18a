"""Managers' dashboards: Mail, Commercial, Stock and Quality, read from the KPI marts.

Only managers open it (``require_role`` first: nothing below runs for anyone else). The
queries live in ``app.dashboards.queries`` and the figures in ``app.dashboards.figures``;
this page lays them out. Only the open tab (``?tab=``, Mail by default) is computed. The
date range and the filters live in the URL's query parameters
(``from``, ``to``, ``stream``, ``region``, ``product``), so a view can be shared. Every chart
is plotly with its toolbar's PNG download; every table has a CSV download of exactly the
rows and columns shown. Customer names link to their Company 360 page.

Nothing here renders HTML: tables are dataframes, names are text.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from app.auth import require_role
from app.dashboards import figures, queries
from app.dashboards.queries import Period
from pebble import db
from pebble.settings import get_settings

require_role("manager")

CACHE_TTL_S = 60
#: The dashboards, one tab each, in order.
DASHBOARDS = ("Mail", "Commercial", "Stock", "Quality")
TODAY = datetime.now(ZoneInfo(get_settings().timezone)).date()
LINK = st.column_config.LinkColumn("Company 360", display_text="Open", width="small")
CARD_LINK = st.column_config.LinkColumn("Card", display_text="Open", width="small")
RUPEES = st.column_config.NumberColumn(format="localized")
PERCENT = st.column_config.NumberColumn(format="percent")


@st.cache_data(ttl=CACHE_TTL_S, max_entries=512, show_spinner=False)
def _read(name: str, *args: object) -> object:
    """``queries.<name>(conn, *args)`` on a connection of its own, cached for a minute."""
    with db.connect(autocommit=True) as conn:
        return getattr(queries, name)(conn, *args)


def _chart(fig: object, name: str) -> None:
    st.plotly_chart(fig, key=f"dash_chart_{name}", config=figures.png_config(name))


def _table(frame: pd.DataFrame, name: str, **column_config: object) -> None:
    """The frame as a table and a CSV download of exactly it."""
    if "company_page" in frame.columns:
        column_config.setdefault("company_page", LINK)
    if "card_page" in frame.columns:
        column_config.setdefault("card_page", CARD_LINK)
    for column in frame.columns:
        if column.endswith("_inr") or column in queries.AGEING_BUCKETS:
            column_config.setdefault(column, RUPEES)
        elif column in ("share", "of_enquiries", "conversion_rate", "pass_rate"):
            column_config.setdefault(column, PERCENT)
    st.dataframe(frame, hide_index=True, key=f"dash_table_{name}", column_config=column_config)
    st.download_button(
        "Download CSV",
        figures.csv_bytes(frame),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"dash_csv_{name}",
        icon=":material/download:",
        on_click="ignore",
    )


def _missing(marts: set[str], *needed: str) -> bool:
    """Say which marts are not built yet (a first materialisation still running)."""
    absent = [m for m in needed if m not in marts]
    if absent:
        st.info(f"Not built yet: {', '.join(absent)}. The figures appear once dbt has run.")
    return bool(absent)


def _date_param(name: str, default: date) -> date:
    try:
        return date.fromisoformat(st.query_params.get(name, ""))
    except ValueError:
        return default


def _list_param(name: str, allowed: list[str]) -> list[str]:
    return [v for v in st.query_params.get_all(name) if v in allowed]


def _sync_url(ours: dict[str, list[str]]) -> None:
    """Write this page's filters into the URL, each only if changed (the open tab's
    parameter is the tabs widget's own, never set here)."""
    for name, values in ours.items():
        if values and st.query_params.get_all(name) != values:
            st.query_params[name] = values
        elif not values and name in st.query_params:
            del st.query_params[name]


st.title("Dashboards")
marts = _read("existing_marts")
bounds = _read("data_days", marts)
options = _read("options", marts)
start, end = queries.default_period(bounds, TODAY)
start, end = _date_param("from", start), _date_param("to", end)

top = st.columns([2, 2, 2, 2])
picked = top[0].date_input("Period", value=(start, end), format="YYYY-MM-DD", key="dash_period")
if isinstance(picked, tuple | list) and len(picked) == 2:
    start, end = picked
streams = top[1].multiselect(
    "Streams", options["streams"], default=_list_param("stream", options["streams"]),
    key="dash_streams", placeholder="All streams",
)  # fmt: skip
regions = top[2].multiselect(
    "Regions", options["regions"], default=_list_param("region", options["regions"]),
    key="dash_regions", placeholder="All regions",
)  # fmt: skip
products = top[3].multiselect(
    "Products", options["products"], default=_list_param("product", options["products"]),
    key="dash_products", placeholder="All products",
)  # fmt: skip
period = Period(start, end, tuple(streams), tuple(regions), tuple(products))

_sync_url({"from": [start.isoformat()], "to": [end.isoformat()], "stream": streams,
           "region": regions, "product": products})  # fmt: skip
st.caption(
    f"{start} to {end} · streams filter Mail, regions and products filter Commercial and Stock."
    " Each chart's toolbar saves it as PNG."
)

# The open tab lives in the URL (?tab=Commercial) and only it is computed and sent.
mail_tab, commercial_tab, stock_tab, quality_tab = st.tabs(
    list(DASHBOARDS), key="tab", bind="query-params"
)

# --- Mail ------------------------------------------------------------------------------------
with mail_tab:
    mail_marts = ("kpi_mail_daily", "kpi_backlog_daily", "kpi_first_response", "email_cards")
    if mail_tab.open and not _missing(marts, *mail_marts):
        volume = _read("mail_volume", period)
        day = _read("backlog_day", period)
        backlog = _read("backlog", period, day) if day else pd.DataFrame()
        by_stream = _read("first_response", period, "stream")
        by_person = _read("first_response", period, "person")
        review = _read("cards_needing_review", period)

        cols = st.columns(4)
        cols[0].metric(
            "Customer messages", f"{int(volume['messages'].sum()):,}" if len(volume) else "0"
        )
        cols[1].metric(
            "New threads", f"{int(volume['new_threads'].sum()):,}" if len(volume) else "0"
        )
        cols[2].metric("Backlog cards", f"{int(backlog['cards'].sum()):,}" if len(backlog) else "0")
        cols[3].metric("Cards needing review", f"{len(review):,}")

        st.subheader("Volume by stream and intent")
        _chart(figures.mail_volume_by_stream(volume), "mail_volume_by_stream")
        _chart(figures.mail_volume_by_intent(volume), "mail_volume_by_intent")
        _table(volume, "mail_volume")

        st.subheader("Backlog per column and age")
        _chart(figures.backlog_by_column(backlog, day), "backlog_by_column")
        _table(backlog.drop(columns=["age_bucket_rank"], errors="ignore"), "backlog")
        _chart(figures.backlog_trend(_read("backlog_trend", period)), "backlog_trend")

        st.subheader("First response time")
        _chart(figures.first_response_chart(by_stream, "stream"), "first_response_by_stream")
        _table(by_stream, "first_response_by_stream")
        _chart(figures.first_response_chart(by_person, "person"), "first_response_by_person")
        _table(by_person, "first_response_by_person")

        st.subheader("Cards that need review")
        if len(review) == queries.REVIEW_LIMIT:
            st.caption(f"The newest {queries.REVIEW_LIMIT} are listed.")
        shown = review.copy()
        shown.insert(0, "card_page", [figures.card_url(c) for c in shown["card_id"]])
        _table(figures.with_company_links(shown), "cards_needing_review")

# --- Commercial ------------------------------------------------------------------------------
with commercial_tab:
    if commercial_tab.open and not _missing(
        marts, "deal_pipeline", "kpi_conversion_daily", "kpi_receivables_ageing"
    ):
        stages = _read("pipeline_by_stage", period)
        funnel = _read("funnel", period)
        ageing = _read("ageing", period)
        as_of = _read("as_of_day")

        cols = st.columns(4)
        open_value = stages.loc[~stages["stage"].isin(["won", "lost"]), "value_inr"].sum()
        cols[0].metric("Deals (enquiries in range)", f"{int(stages['deals'].sum()):,}")
        cols[1].metric("Open pipeline value", figures.format_inr(open_value))
        cols[2].metric(
            "Outstanding receivables", figures.format_inr(ageing["outstanding_inr"].sum())
        )
        cols[3].metric("Overdue receivables", figures.format_inr(ageing["overdue_inr"].sum()))

        st.subheader("Pipeline by stage")
        _chart(figures.pipeline_chart(stages), "pipeline_by_stage")
        _table(stages, "pipeline_by_stage")
        _chart(figures.funnel_chart(funnel), "pipeline_funnel")
        _table(funnel, "pipeline_funnel")

        st.subheader("Enquiry-to-order conversion")
        by_product = _read("conversion", period, "product")
        by_region = _read("conversion", period, "region")
        _chart(figures.conversion_chart(by_product, "product"), "conversion_by_product")
        _chart(figures.conversion_chart(by_region, "region"), "conversion_by_region")
        _table(_read("conversion", period, "product_region"), "conversion_by_product_region")

        st.subheader("Top customers by value")
        top_customers = _read("top_customers", period)
        _chart(figures.top_customers_chart(top_customers), "top_customers")
        _table(figures.with_company_links(top_customers), "top_customers")

        st.subheader(f"Receivables ageing (as of {as_of})")
        _chart(figures.ageing_chart(ageing), "receivables_ageing")
        _table(ageing, "receivables_ageing")
        _table(figures.with_company_links(_read("ageing_by_customer", period)),
               "receivables_ageing_by_customer")  # fmt: skip

# --- Stock -----------------------------------------------------------------------------------
with stock_tab:
    if stock_tab.open and not _missing(
        marts, "deal_pipeline", "kpi_demand_vs_stock", "stock_history"
    ):
        st.subheader("Products asked about against stock on hand")
        demand = _read("demand_vs_stock", period)
        _chart(figures.demand_chart(demand), "demand_vs_stock")
        _table(demand, "demand_vs_stock")

        st.subheader("Low stock with open enquiries")
        low = _read("low_stock_with_enquiries")
        if low.empty:
            st.text("No low-stock item has an open enquiry.")
        _table(low, "low_stock_with_open_enquiries")

        st.subheader("Stock history of a product")
        products_with_history = _read("stock_products")
        if products_with_history:
            wanted_product = st.query_params.get("stock_product")
            index = (
                products_with_history.index(wanted_product)
                if wanted_product in products_with_history
                else 0
            )
            product = st.selectbox(
                "Product", products_with_history, index=index, key="dash_stock_product"
            )
            _sync_url({"stock_product": [product]})
            history = _read("stock_history", product, period)
            if history.empty:  # Tally syncs are recent; an older period has none
                st.caption("No Tally sync in the period: every sync of the product is shown.")
                history = _read("stock_history", product, Period(date.min, date.max))
            _chart(figures.stock_history_chart(history, product), "stock_history")
            _table(history, "stock_history")
        else:
            st.text("No Tally stock synced yet.")

# --- Quality ---------------------------------------------------------------------------------
with quality_tab:
    if quality_tab.open and not _missing(marts, "qc_batches", "qc_alerts"):
        pass_rate = _read("qc_pass_rate", period)
        alerts = _read("qc_open_alerts")
        batches, passed = int(pass_rate["batches"].sum()), int(pass_rate["passed"].sum())
        cols = st.columns(3)
        cols[0].metric("Batches inspected", f"{batches:,}")
        cols[1].metric("Pass rate", f"{passed / batches:.1%}" if batches else "–")
        cols[2].metric("Open QC alerts", f"{len(alerts):,}")
        st.subheader("Pass rate")
        _chart(figures.pass_rate_chart(pass_rate), "qc_pass_rate")
        _table(pass_rate, "qc_pass_rate")
        st.subheader("Open alerts")
        _table(alerts, "qc_open_alerts")
