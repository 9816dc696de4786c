"""Plotly figures, each a pure function of plain data (lists, dicts), so the pages,
the HTML report and the tests all draw the same charts."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORSCALE = "Viridis"  # the paper's colour map, used for every heatmap


def _pct(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None else 100.0 * float(v) for v in values]


def per_class_bars(labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
                   *, reference: Mapping[str, Sequence[float | None]] | None = None,
                   title: str = "Accuracy per age group") -> go.Figure:
    """Grouped bars of per-class accuracy (fractions, shown in %), one group per class;
    `reference` series (e.g. the paper's) are drawn as hollow bars."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_bar(name=name, x=list(labels), y=_pct(values),
                    hovertemplate="%{x}: %{y:.1f}%<extra>" + name + "</extra>")
    for name, values in (reference or {}).items():
        fig.add_bar(name=name, x=list(labels), y=_pct(values[:len(labels)]),
                    marker={"color": "rgba(0,0,0,0)", "line": {"color": "#555", "width": 2}},
                    hovertemplate="%{x}: %{y:.1f}%<extra>" + name + "</extra>")
    fig.update_layout(barmode="group", title=title, yaxis={"title": "accuracy (%)",
                                                            "range": [0, 100]},
                      xaxis={"title": "true age group"}, legend={"orientation": "h"})
    return fig


def row_percent(matrix: Sequence[Sequence[float]]) -> list[list[float | None]]:
    """Each row of a confusion matrix as percentages of its row total (None for empty rows)."""
    out = []
    for row in matrix:
        total = float(sum(row))
        out.append([100.0 * v / total if total else None for v in row])
    return out


def confusion_heatmap(matrix: Sequence[Sequence[float]], labels: Sequence[str], *,
                      normalized: bool = False, title: str = "Confusion matrix") -> go.Figure:
    """The confusion matrix (rows true, columns predicted) as a viridis heatmap with the
    value in each cell: counts, or row percentages when `normalized`."""
    z = row_percent(matrix) if normalized else [[float(v) for v in row] for row in matrix]
    text = [["" if v is None else (f"{v:.1f}%" if normalized else f"{v:.0f}") for v in row]
            for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(labels), y=list(labels), text=text, texttemplate="%{text}",
        colorscale=COLORSCALE, colorbar={"title": "% of row" if normalized else "images"},
        hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    fig.update_layout(title=title, xaxis={"title": "predicted", "side": "bottom"},
                      yaxis={"title": "true", "autorange": "reversed"})
    return fig


def training_curves(history: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Loss and accuracy per epoch (train and validation), with the stage of training in
    the hover text; one panel each."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    stages = [str(h.get("stage", "")) for h in history]
    for col, metric in ((1, "loss"), (2, "accuracy")):
        for prefix, dash in (("", "solid"), ("val_", "dash")):
            name = prefix + metric
            if any(name in h for h in history):
                fig.add_scatter(x=epochs, y=[h.get(name) for h in history], name=name,
                                mode="lines+markers", line={"dash": dash}, customdata=stages,
                                hovertemplate="epoch %{x}: %{y:.4f} %{customdata}<extra>"
                                + name + "</extra>", row=1, col=col)
    # A dotted line where the training stage changes (e.g. an unfreezing cycle).
    for i in range(1, len(history)):
        if stages[i] != stages[i - 1]:
            fig.add_vline(x=epochs[i], line={"dash": "dot", "color": "#888"})
    fig.update_xaxes(title="epoch")
    fig.update_layout(title="Training curves", legend={"orientation": "h"})
    return fig


def group_accuracy_bars(overall: float | None, groups: Mapping[str, float | None]) -> go.Figure:
    """Accuracy of sub-groups (men, women, greyscale photos...) beside the overall one."""
    names = ["all test faces", *groups]
    values = _pct([overall, *groups.values()])
    fig = go.Figure(go.Bar(x=names, y=values, text=[None if v is None else f"{v:.1f}%"
                                                    for v in values],
                           marker={"color": ["#444", *["#21918c"] * len(groups)]}))
    fig.update_layout(title="Accuracy by group", yaxis={"title": "accuracy (%)",
                                                        "range": [0, 100]})
    return fig
