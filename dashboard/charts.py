"""Plotly figures, each a pure function of plain data (lists, dicts), so the pages,
the HTML report and the tests all draw the same charts."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORSCALE = "Viridis"  # the paper's colour map, used for every heatmap
HEIGHT = 440  # pixels; every chart's legend sits in a bottom margin of its own
LEGEND_MARGIN = 150  # the x-axis title above, the legend (up to three rows) below
NEUTRAL = "#777"  # differences and references: never a green "win" or a red "loss"


def legend_below(fig: go.Figure, height: int = HEIGHT) -> go.Figure:
    """A horizontal legend at the figure's bottom edge, under a margin that holds the
    x-axis title, so no legend can overlap an axis title."""
    fig.update_layout(height=height, margin={"b": LEGEND_MARGIN, "t": 60},
                      legend={"orientation": "h", "yref": "container", "yanchor": "bottom",
                              "y": 0, "x": 0, "xanchor": "left"})
    return fig


def with_n(labels: Sequence[str], counts: Sequence[float | None] | None) -> list[str]:
    """Class labels with their number of test faces: '20-39<br>n=180'."""
    if not counts:
        return list(labels)
    return [f"{label}<br>n={int(c)}" if c is not None else str(label)
            for label, c in zip(labels, list(counts) + [None] * len(labels))]


def _pct(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None else 100.0 * float(v) for v in values]


def per_class_bars(labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
                   *, reference: Mapping[str, Sequence[float | None]] | None = None,
                   title: str = "Accuracy per age group", n: int | None = None,
                   n_per_class: Sequence[float | None] | None = None) -> go.Figure:
    """Grouped bars of per-class accuracy (fractions, shown in %), one group per class;
    `reference` series (e.g. the paper's) are drawn as hollow grey bars. The title says
    the number of test faces `n`, each class label its own `n_per_class`."""
    x = with_n(labels, n_per_class)
    fig = go.Figure()
    for name, values in series.items():
        fig.add_bar(name=name, x=x, y=_pct(values),
                    hovertemplate="%{x}: %{y:.1f}%<extra>" + name + "</extra>")
    for name, values in (reference or {}).items():
        fig.add_bar(name=name, x=x, y=_pct(values[:len(labels)]),
                    marker={"color": "rgba(0,0,0,0)", "line": {"color": NEUTRAL, "width": 2}},
                    hovertemplate="%{x}: %{y:.1f}%<extra>" + name + "</extra>")
    fig.update_layout(barmode="group", title=title + (f" (n = {n:,} test faces)" if n else ""),
                      yaxis={"title": "accuracy (%)", "range": [0, 100]},
                      xaxis={"title": "true age group"})
    return legend_below(fig)


def row_percent(matrix: Sequence[Sequence[float]]) -> list[list[float | None]]:
    """Each row of a confusion matrix as percentages of its row total (None for empty rows)."""
    out = []
    for row in matrix:
        total = float(sum(row))
        out.append([100.0 * v / total if total else None for v in row])
    return out


def confusion_heatmap(matrix: Sequence[Sequence[float]], labels: Sequence[str], *,
                      normalized: bool = False, title: str = "Confusion matrix",
                      zmax: float | None = None, colorbar: bool = True) -> go.Figure:
    """The confusion matrix (rows true, columns predicted) as a viridis heatmap with the
    value in each cell: counts, or row percentages when `normalized`. The colour scale
    runs from 0 to `zmax` (default: 100% or the largest count), so several matrices
    drawn with one `zmax` share it; square cells, readable from about 350 px."""
    z = row_percent(matrix) if normalized else [[float(v) for v in row] for row in matrix]
    text = [["—" if v is None else (f"{v:.0f}%" if normalized else f"{v:.0f}") for v in row]
            for row in z]
    top = zmax if zmax is not None else (100.0 if normalized else
                                         max([v for row in z for v in row if v is not None]
                                             or [1.0]))
    fig = go.Figure(go.Heatmap(
        z=z, x=list(labels), y=list(labels), text=text, texttemplate="%{text}",
        zmin=0, zmax=top, colorscale=COLORSCALE, showscale=colorbar,
        colorbar={"title": "% of row" if normalized else "images", "thickness": 12},
        hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    fig.update_layout(title=title, height=HEIGHT, margin={"l": 70, "r": 20, "t": 60, "b": 60},
                      xaxis={"title": "predicted", "side": "bottom", "constrain": "domain"},
                      yaxis={"title": "true", "autorange": "reversed", "scaleanchor": "x"})
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
    fig.update_layout(title="Training curves")
    return legend_below(fig)


def curves_of_runs(histories: Mapping[str, Sequence[Mapping[str, Any]]],
                   metric: str = "val_accuracy") -> go.Figure:
    """One line per run of `metric` by epoch (validation accuracy by default), so the
    chosen runs' training can be read on one chart."""
    fig = go.Figure()
    for name, history in histories.items():
        epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
        fig.add_scatter(x=epochs, y=[h.get(metric) for h in history], name=name,
                        mode="lines+markers",
                        hovertemplate="epoch %{x}: %{y:.4f}<extra>" + name + "</extra>")
    fig.update_layout(title=f"Training curves: {metric.replace('_', ' ')}",
                      xaxis={"title": "epoch"}, yaxis={"title": metric.replace("_", " ")})
    return legend_below(fig)


def group_accuracy_bars(overall: float | None, groups: Mapping[str, float | None], *,
                        n: int | None = None) -> go.Figure:
    """Accuracy of sub-groups (men, women, greyscale photos...) beside the overall one;
    the title says the number of test faces `n`."""
    names = ["all test faces", *groups]
    values = _pct([overall, *groups.values()])
    fig = go.Figure(go.Bar(x=names, y=values, text=[None if v is None else f"{v:.1f}%"
                                                    for v in values],
                           marker={"color": ["#444", *["#21918c"] * len(groups)]}))
    fig.update_layout(title="Accuracy by group" + (f" (n = {n:,} test faces)" if n else ""),
                      yaxis={"title": "accuracy (%)", "range": [0, 100]}, height=HEIGHT)
    return fig
