"""The QC dashboard's plotly charts. Each is exported to PNG from its own toolbar
(:func:`png_config`: plotly's "download plot as png" button, enabled and named)."""

from __future__ import annotations

import re
from typing import Any

import plotly.graph_objects as go
import polars as pl

SPEC = "#c62828"
CONTROL = "#ef6c00"
MEAN = "#757575"
RESULT = "#1565c0"


def png_config(name: str) -> dict[str, Any]:
    """Plotly's config for a chart: the modebar always shown, with "download as png"
    writing ``<name>.png`` at twice the screen's resolution."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "chart"
    return {
        "displaylogo": False,
        "displayModeBar": True,
        "toImageButtonOptions": {"format": "png", "filename": safe, "scale": 2},
    }


def _line(frame: pl.DataFrame, column: str, name: str, colour: str, dash: str) -> go.Scatter:
    return go.Scatter(
        x=frame["inspection_date"].to_list(),
        y=frame[column].to_list(),
        name=name,
        mode="lines",
        line={"color": colour, "dash": dash, "shape": "hv", "width": 1.5},
        connectgaps=False,
        hoverinfo="skip",
    )


def control_chart(frame: pl.DataFrame, title: str) -> go.Figure:
    """Results over time against the spec (min, max and the band between them), the
    control limits (mean +/- 3 sigma of the previous results) and their mean. Out-of-spec
    results are red crosses, in-spec results outside the control limits orange diamonds."""
    figure = go.Figure()
    if frame.height:
        if frame["min_value"].drop_nulls().len():
            figure.add_trace(_line(frame, "min_value", "spec min", SPEC, "dash"))
        if frame["max_value"].drop_nulls().len():
            figure.add_trace(_line(frame, "max_value", "spec max", SPEC, "dash"))
            if frame["min_value"].drop_nulls().len():
                figure.data[-1].update(fill="tonexty", fillcolor="rgba(198,40,40,0.06)")
        if frame["control_low"].drop_nulls().len():
            figure.add_trace(_line(frame, "control_mean", "mean (rolling)", MEAN, "dot"))
            figure.add_trace(_line(frame, "control_low", "LCL (mean - 3σ)", CONTROL, "dot"))
            figure.add_trace(_line(frame, "control_high", "UCL (mean + 3σ)", CONTROL, "dot"))
        kinds = {
            "in spec": (
                frame["in_spec"].fill_null(True) & ~frame["out_of_control"].fill_null(False)
            ),
            "out of control (in spec)": (
                frame["in_spec"].fill_null(True) & frame["out_of_control"].fill_null(False)
            ),
            "out of spec": ~frame["in_spec"].fill_null(True),
        }
        styles = {
            "in spec": {"color": RESULT, "size": 7, "symbol": "circle"},
            "out of control (in spec)": {"color": CONTROL, "size": 10, "symbol": "diamond"},
            "out of spec": {"color": SPEC, "size": 11, "symbol": "x"},
        }
        for label, mask in kinds.items():
            points = frame.filter(mask)
            if not points.height:
                continue
            figure.add_trace(
                go.Scatter(
                    x=points["inspection_date"].to_list(),
                    y=points["result_value"].to_list(),
                    name=label,
                    mode="markers",
                    marker=styles[label],
                    customdata=list(
                        zip(
                            points["batch_no"].to_list(), points["qc_doc_no"].to_list(), strict=True
                        )  # fmt: skip
                    ),
                    hovertemplate="%{x}<br>%{y}<br>batch %{customdata[0]}"
                    "<br>%{customdata[1]}<extra>" + label + "</extra>",
                )
            )
    unit = frame["unit"].drop_nulls().first() if frame.height else None
    figure.update_layout(
        title=title,
        xaxis_title="inspection date",
        yaxis_title=unit or "result",
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 50, "b": 10},
        height=420,
    )
    return figure


def throughput_chart(frame: pl.DataFrame, grain: str) -> go.Figure:
    """Inspections per day or week, passed and failed stacked."""
    x = frame[grain].to_list()
    figure = go.Figure(
        [
            go.Bar(x=x, y=frame["passed"].to_list(), name="passed", marker_color=RESULT),
            go.Bar(x=x, y=frame["failed"].to_list(), name="failed", marker_color=SPEC),
        ]
    )
    figure.update_layout(
        barmode="stack",
        title=f"Inspections per {grain}",
        xaxis_title=grain,
        yaxis_title="inspections",
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 50, "b": 10},
        height=360,
    )
    return figure


def lead_time_chart(frame: pl.DataFrame, grain: str) -> go.Figure:
    """Average days from the order to the QC result, per day or week."""
    figure = go.Figure(
        go.Scatter(
            x=frame[grain].to_list(),
            y=frame["avg_days_order_to_result"].to_list(),
            mode="lines+markers",
            name="days",
            line={"color": MEAN},
        )
    )
    figure.update_layout(
        title=f"Days from order to QC result (average per {grain})",
        xaxis_title=grain,
        yaxis_title="days",
        margin={"t": 50, "b": 10},
        height=300,
    )
    return figure


def pass_rate_chart(frame: pl.DataFrame) -> go.Figure:
    """Pass rate by product, lowest first."""
    figure = go.Figure(
        go.Bar(
            x=[float(v) if v is not None else None for v in frame["pass_rate"].to_list()],
            y=frame["product_name"].to_list(),
            orientation="h",
            marker_color=RESULT,
            customdata=frame["inspections"].to_list(),
            hovertemplate="%{y}: %{x:.1%} of %{customdata} inspections<extra></extra>",
        )
    )
    figure.update_layout(
        title="Pass rate by product",
        xaxis={"title": "pass rate", "tickformat": ".0%", "range": [0, 1]},
        yaxis={"autorange": "reversed"},
        margin={"t": 50, "b": 10},
        height=max(300, 22 * frame.height + 80),
    )
    return figure
