"""The dashboards' plotly figures and the helpers the page shows tables with (no Streamlit
here). Each figure takes the frame a query in ``app.dashboards.queries`` returned and draws it
as it is: no figure computes a number the table beside it does not show.

Every chart exports to PNG from its own toolbar (:func:`png_config`), every table to CSV
(:func:`csv_bytes`, the exact frame shown).
"""

from __future__ import annotations

from urllib.parse import quote

import pandas as pd
import plotly.graph_objects as go

from app.dashboards.queries import AGEING_BUCKETS, BACKLOG_BUCKETS, BACKLOG_COLUMNS

#: The company page's URL path and query parameter (app/streamlit_app.py PAGES).
COMPANY_PAGE, COMPANY_PARAM = "company", "key"
CARD_PAGE, CARD_PARAM = "card", "card"


def png_config(name: str) -> dict[str, object]:
    """plotly's toolbar for ``st.plotly_chart(config=...)``: always shown, its camera button
    saving the chart as ``<name>.png`` at twice the screen's resolution."""
    return {
        "displayModeBar": True,
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
    }


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as CSV (UTF-8, header, no index): what the table shows, column for column."""
    return frame.to_csv(index=False).encode("utf-8")


def company_url(company_key: object) -> str | None:
    """The Company 360 page of ``company_key`` (relative to the app), None without a key."""
    if company_key is None or (isinstance(company_key, float) and pd.isna(company_key)):
        return None
    return f"{COMPANY_PAGE}?{COMPANY_PARAM}={quote(str(company_key), safe='')}"


def card_url(card_id: str) -> str:
    return f"{CARD_PAGE}?{CARD_PARAM}={quote(card_id, safe='')}"


def with_company_links(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``company_page`` column (the customer's Company 360 link) in place of
    ``company_key``; the CSV of it carries the same link."""
    out = frame.copy()
    if "company_key" in out.columns:
        out.insert(
            list(out.columns).index("company_key"),
            "company_page",
            [company_url(k) for k in out["company_key"]],
        )
        out = out.drop(columns=["company_key"])
    return out


def format_inr(amount: float | int | None) -> str:
    """Rupees with Indian digit grouping, whole rupees: 386400 -> "₹3,86,400"."""
    if amount is None or pd.isna(amount):
        return "–"
    sign = "-" if amount < 0 else ""
    digits = str(round(abs(float(amount))))
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        digits = ",".join(groups) + "," + tail
    return f"{sign}₹{digits}"


def format_minutes(minutes: float | None) -> str:
    """A response time: "45 min", "3.5 h", "2.1 d"."""
    if minutes is None or pd.isna(minutes):
        return "–"
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} d"


def _empty(title: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title=title,
        annotations=[
            {
                "text": "No data in this range",
                "showarrow": False,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
            }
        ],  # fmt: skip
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return fig


def _figure(title: str, traces: list[dict[str, object]], **layout: object) -> go.Figure:
    """A figure from plain trace dicts (plotly.graph_objects, not plotly.express: express
    costs ~70 ms a chart in processing the frame, the page draws up to eight)."""
    return go.Figure(
        data=traces,
        layout={
            "title": {"text": title},
            "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
            "legend": {"title": {"text": ""}},
            **layout,
        },  # fmt: skip
    )


def _series(
    frame: pd.DataFrame,
    x: str,
    y: str,
    by: str | None,
    kind: str = "bar",
    order: list[str] | None = None,
    **trace: object,
) -> list[dict[str, object]]:
    """One trace per value of ``by`` (in ``order`` if given), or one trace without it."""
    if by is None:
        return [{"type": kind, "x": frame[x].tolist(), "y": frame[y].tolist(), **trace}]
    names = order or sorted(frame[by].dropna().unique().tolist())
    traces = []
    for name in names:
        part = frame[frame[by] == name]
        if len(part):
            traces.append({"type": kind, "name": str(name), "x": part[x].tolist(),
                           "y": part[y].tolist(), **trace})  # fmt: skip
    return traces


# --- mail ----------------------------------------------------------------------------------


def mail_volume_by_stream(volume: pd.DataFrame) -> go.Figure:
    title = "Customer messages per day, by stream"
    if volume.empty:
        return _empty(title)
    daily = volume.groupby(["day", "stream"], as_index=False)["messages"].sum()
    return _figure(title, _series(daily, "day", "messages", "stream"), barmode="stack")


def mail_volume_by_intent(volume: pd.DataFrame) -> go.Figure:
    title = "Customer messages per day, by intent"
    if volume.empty:
        return _empty(title)
    daily = volume.groupby(["day", "intent"], as_index=False)["messages"].sum()
    return _figure(title, _series(daily, "day", "messages", "intent"), barmode="stack")


def backlog_by_column(backlog: pd.DataFrame, day: object) -> go.Figure:
    title = f"Backlog per column and age, end of {day}"
    if backlog.empty:
        return _empty(title)
    traces = _series(backlog, "column", "cards", "age_bucket", order=list(BACKLOG_BUCKETS))
    return _figure(title, traces, barmode="stack",
                   xaxis={"categoryorder": "array", "categoryarray": list(BACKLOG_COLUMNS)})  # fmt: skip


def backlog_trend(trend: pd.DataFrame) -> go.Figure:
    title = "Backlog per column at each day's end"
    if trend.empty:
        return _empty(title)
    traces = _series(trend, "day", "cards", "column", kind="scatter",
                     order=list(BACKLOG_COLUMNS), mode="lines", stackgroup="backlog")  # fmt: skip
    return _figure(title, traces)


def first_response_chart(frame: pd.DataFrame, by: str) -> go.Figure:
    title = f"First response (minutes) per {by}: median and 90th percentile"
    answered = frame[frame["responded"] > 0] if not frame.empty else frame
    if answered.empty:
        return _empty(title)
    traces = [
        {"type": "bar", "name": name, "x": answered[by].tolist(), "y": answered[column].tolist()}
        for name, column in (("median", "median_minutes"), ("p90", "p90_minutes"))
    ]
    return _figure(title, traces, barmode="group", yaxis={"title": {"text": "minutes"}})


# --- commercial ----------------------------------------------------------------------------


def pipeline_chart(stages: pd.DataFrame) -> go.Figure:
    title = "Deals by current stage (value ₹)"
    if stages.empty:
        return _empty(title)
    traces = _series(stages, "stage", "value_inr", None, text=stages["deals"].tolist(),
                     hovertemplate="%{x}: ₹%{y:,.0f}, %{text} deals<extra></extra>")  # fmt: skip
    return _figure(title, traces)


def funnel_chart(funnel: pd.DataFrame) -> go.Figure:
    title = "Enquiries reaching each step"
    if funnel.empty or funnel["deals"].iloc[0] == 0:
        return _empty(title)
    trace = {"type": "funnel", "y": funnel["step"].tolist(), "x": funnel["deals"].tolist(),
             "textinfo": "value+percent initial"}  # fmt: skip
    return _figure(title, [trace])


def conversion_chart(frame: pd.DataFrame, by: str, limit: int = 20) -> go.Figure:
    title = f"Enquiry-to-order conversion by {by} (top {limit} by enquiries)"
    if frame.empty:
        return _empty(title)
    top = frame.head(limit)
    traces = _series(top, by, "conversion_rate", None, text=top["enquiries"].tolist(),
                     hovertemplate="%{x}: %{y:.1%} of %{text} enquiries<extra></extra>")  # fmt: skip
    return _figure(title, traces, yaxis={"tickformat": ".0%"})


def top_customers_chart(frame: pd.DataFrame) -> go.Figure:
    title = "Top customers by invoiced value (₹)"
    if frame.empty:
        return _empty(title)
    trace = {"type": "bar", "orientation": "h", "x": frame["invoiced_inr"].tolist(),
             "y": frame["customer"].tolist()}  # fmt: skip
    return _figure(title, [trace], yaxis={"autorange": "reversed"})


def ageing_chart(ageing: pd.DataFrame) -> go.Figure:
    title = "Receivables outstanding by age (days from invoice)"
    if ageing.empty or ageing["outstanding_inr"].sum() == 0:
        return _empty(title)
    traces = [
        {"type": "bar", "name": name, "x": ageing["ageing_bucket"].tolist(), "y": values}
        for name, values in (
            ("overdue", ageing["overdue_inr"].tolist()),
            ("not yet due", (ageing["outstanding_inr"] - ageing["overdue_inr"]).tolist()),
        )
    ]
    return _figure(title, traces, barmode="stack",
                   xaxis={"categoryorder": "array", "categoryarray": list(AGEING_BUCKETS)})  # fmt: skip


# --- stock and quality ---------------------------------------------------------------------


def demand_chart(frame: pd.DataFrame, limit: int = 25) -> go.Figure:
    title = f"Kilograms asked in the range against stock on hand (top {limit} products)"
    if frame.empty:
        return _empty(title)
    top = frame.head(limit)
    traces = [
        {"type": "bar", "name": name, "x": top["product"].tolist(), "y": top[column].tolist()}
        for name, column in (("asked (kg)", "qty_asked_kg"), ("on hand (kg)", "stock_on_hand_kg"))
    ]
    return _figure(title, traces, barmode="group")


def stock_history_chart(frame: pd.DataFrame, product: str) -> go.Figure:
    title = f"Stock of {product} at each Tally sync"
    if frame.empty:
        return _empty(title)
    y = "closing_qty_kg" if frame["closing_qty_kg"].notna().any() else "closing_qty"
    trace = {"type": "scatter", "mode": "lines+markers", "line": {"shape": "hv"},
             "x": frame["synced_at"].tolist(), "y": frame[y].tolist()}  # fmt: skip
    return _figure(title, [trace])


def pass_rate_chart(frame: pd.DataFrame) -> go.Figure:
    title = "QC pass rate by product (batches inspected in the range)"
    if frame.empty:
        return _empty(title)
    traces = _series(frame, "product", "pass_rate", None, text=frame["batches"].tolist(),
                     hovertemplate="%{x}: %{y:.1%} of %{text} batches<extra></extra>")  # fmt: skip
    return _figure(title, traces, yaxis={"range": [0, 1], "tickformat": ".0%"})
