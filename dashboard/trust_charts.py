"""Charts of how far the numbers can be trusted: error bars, per-group bars, the
reliability diagram, the coverage-accuracy curve, and a confusion matrix whose cells
can be clicked. Pure functions of plain data, like dashboard/charts.py."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from dashboard.trust_words import group_label

BEFORE, AFTER = "#999", "#21918c"


def error_bars(values: Sequence[float | None],
               intervals: Sequence[Sequence[float] | None] | None) -> dict[str, Any] | None:
    """Plotly error_y (in %) from 95% intervals around fractions; None without any."""
    if not intervals or not any(intervals):
        return None
    ivs = list(intervals) + [None] * (len(values) - len(intervals))
    plus = [None if v is None or not i else 100 * (i[1] - v) for v, i in zip(values, ivs)]
    minus = [None if v is None or not i else 100 * (v - i[0]) for v, i in zip(values, ivs)]
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
            "color": "#333", "thickness": 1.5, "width": 4}


def add_intervals(fig: go.Figure, trace_name: str,
                  intervals: Sequence[Sequence[float] | None] | None) -> go.Figure:
    """Error bars (95% intervals) on the bar trace named `trace_name` of a figure whose
    bars are accuracies in %."""
    for trace in fig.data:
        if trace.name == trace_name and intervals:
            values = [None if y is None else y / 100 for y in trace.y]
            bars = error_bars(values, intervals)
            if bars:
                trace.error_y = bars
    return fig


def group_bars(attribute: str, groups: Mapping[str, Mapping[str, Any]],
               overall: float | None = None) -> go.Figure:
    """Accuracy of each group of one attribute with its 95% interval and n, beside a
    dotted line at the overall accuracy."""
    names = list(groups)
    values = [groups[g]["accuracy"] for g in names]
    x = [f"{group_label(attribute, g)}<br>n={groups[g]['n']}" for g in names]
    fig = go.Figure(go.Bar(
        x=x, y=[100 * v for v in values], marker={"color": AFTER},
        error_y=error_bars(values, [groups[g].get("ci95") for g in names]),
        text=[f"{100 * v:.1f}%" for v in values], textposition="inside",
        hovertemplate="%{x}: %{y:.1f}%<extra></extra>"))
    if overall is not None:
        fig.add_hline(y=100 * overall, line={"dash": "dot", "color": "#444"},
                      annotation_text=f"all faces {100 * overall:.1f}%")
    fig.update_layout(title=f"Accuracy by {attribute.replace('_', ' ')} (95% intervals)",
                      yaxis={"title": "accuracy (%)", "range": [0, 100]})
    return fig


def reliability_diagram(calibration: Mapping[str, Any]) -> go.Figure:
    """Accuracy against confidence per bin, before and after the temperature; a
    calibrated model lies on the diagonal. Marker size follows each bin's n."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 100], y=[0, 100], mode="lines", name="perfectly calibrated",
                    line={"dash": "dot", "color": "#444"}, hoverinfo="skip")
    for key, name, colour in (("bins_before", "as the model says", BEFORE),
                              ("bins_after", f"after temperature "
                               f"{calibration.get('temperature', 1.0):.2f}", AFTER)):
        bins = [b for b in calibration.get(key) or [] if b["n"]]
        total = sum(b["n"] for b in bins) or 1
        fig.add_scatter(
            x=[100 * b["confidence"] for b in bins], y=[100 * b["accuracy"] for b in bins],
            mode="lines+markers", name=name, line={"color": colour},
            marker={"size": [6 + 24 * (b["n"] / total) ** 0.5 for b in bins]},
            customdata=[b["n"] for b in bins],
            hovertemplate="confidence %{x:.0f}%: right %{y:.0f}% (n=%{customdata})<extra>"
            + name + "</extra>")
    n = calibration.get("n")
    fig.update_layout(title="How sure it is, and how often it is right"
                      + (f" (n = {n} test faces)" if n else ""),
                      xaxis={"title": "confidence (%)", "range": [0, 100]},
                      yaxis={"title": "accuracy (%)", "range": [0, 100]},
                      # Inside the plot's empty top-left corner, clear of the axis titles.
                      legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.7)"})
    return fig


def coverage_chart(calibration: Mapping[str, Any]) -> go.Figure:
    """The coverage-accuracy curve: answering only above a confidence threshold, the
    share of faces answered against the accuracy on them."""
    points = [c for c in calibration.get("coverage") or [] if c["n"]]
    fig = go.Figure(go.Scatter(
        x=[100 * c["coverage"] for c in points], y=[100 * c["accuracy"] for c in points],
        mode="lines+markers", line={"color": AFTER},
        customdata=[[100 * c["threshold"], c["n"]] for c in points],
        hovertemplate="answering when at least %{customdata[0]:.0f}% sure: %{x:.0f}% of "
                      "faces (n=%{customdata[1]}), right %{y:.1f}%<extra></extra>"))
    fig.update_layout(title="Answering only when sure enough",
                      xaxis={"title": "faces answered (%)", "range": [0, 102]},
                      yaxis={"title": "accuracy on them (%)"})
    return fig


def clickable_cells(fig: go.Figure, matrix: Sequence[Sequence[float]],
                    labels: Sequence[str]) -> go.Figure:
    """A confusion heatmap whose cells can be clicked: an invisible marker on every cell
    (heatmaps emit no selection events) carrying [true, predicted] as customdata."""
    k = len(matrix)
    cells = [(i, j) for i in range(k) for j in range(k)]
    fig.add_scatter(
        x=[labels[j] for _, j in cells], y=[labels[i] for i, _ in cells], mode="markers",
        customdata=[[i, j, matrix[i][j]] for i, j in cells], showlegend=False,
        name="cells", marker={"symbol": "square", "size": max(24, 320 // max(k, 1)),
                              "opacity": 0.01, "color": "#000"},
        selected={"marker": {"opacity": 0.01}}, unselected={"marker": {"opacity": 0.01}},
        hovertemplate="true %{y}, predicted %{x}: %{customdata[2]} faces; click to see "
                      "them<extra></extra>")
    # The markers must not widen the axes: each runs exactly over its k categories.
    fig.update_xaxes(range=[-0.5, k - 0.5], autorange=False)
    fig.update_yaxes(range=[k - 0.5, -0.5], autorange=False)
    return fig


def selected_cell(event: Any) -> tuple[int, int] | None:
    """(true, predicted) of the cell clicked in a clickable_cells chart, if any."""
    # Streamlit's chart state is a dict: {"selection": {"points": [...], ...}}.
    points = ((event or {}).get("selection") or {}).get("points") or []
    for point in points:
        data = point.get("customdata")
        if data and len(data) >= 2:
            return int(data[0]), int(data[1])
    return None


def add_group_bar_intervals(fig: go.Figure, m: Mapping[str, Any]) -> go.Figure:
    """Error bars on the 'Accuracy by group' chart: all test faces, men and women."""
    gender = (m.get("per_group") or {}).get("gender") or {}
    known = {"all test faces": m.get("accuracy_ci95"), "men": (gender.get("M") or {}).get("ci95"),
             "women": (gender.get("F") or {}).get("ci95")}
    for trace in fig.data:
        if trace.type == "bar" and trace.x is not None:
            values = [None if y is None else y / 100 for y in trace.y]
            bars = error_bars(values, [known.get(x) for x in trace.x])
            if bars:
                trace.error_y = bars
    return fig
