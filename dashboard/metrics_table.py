"""Tables shaped like the paper's Table 1: metrics down, models across (fractions)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from dashboard.paper import PAPER_LABELS, PAPER_TEST_N, TABLE1

# Rows after the per-class ones: (row name, metric key or (dict key, sub key)).
_EXTRA_ROWS = (("Balanced accuracy", "balanced_accuracy"), ("Macro F1", "macro_f1"),
               ("Quadratic weighted kappa", "qwk"), ("Greyscale accuracy", "greyscale_accuracy"),
               ("Accuracy, men", ("per_gender_accuracy", "M")),
               ("Accuracy, women", ("per_gender_accuracy", "F")))


def _get(metrics: Mapping[str, Any], where) -> float | None:
    if isinstance(where, tuple):
        return (metrics.get(where[0]) or {}).get(where[1])
    return metrics.get(where)


N_ROW = "Test faces (n)"
# The rows with a 95% interval, and the metric key that holds it.
_INTERVAL_KEYS = {"Overall accuracy": "accuracy_ci95", "One-off accuracy": "one_off_ci95",
                  "Balanced accuracy": "balanced_accuracy_ci95"}


def _class_rows(labels: Sequence[str]) -> list[str]:
    return [f"Class {i} ({label})" for i, label in enumerate(labels)]


def table1(metrics_by_model: Mapping[str, Mapping[str, Any]],
           labels: Sequence[str]) -> pd.DataFrame:
    """The test faces behind each column, overall and one-off accuracy, one row per
    class, then the extra metrics."""
    rows: dict[str, list[float | None]] = {N_ROW: [], "Overall accuracy": [],
                                           "One-off accuracy": []}
    class_rows = _class_rows(labels)
    rows.update({name: [] for name in class_rows})
    rows.update({name: [] for name, _ in _EXTRA_ROWS})
    for m in metrics_by_model.values():
        rows[N_ROW].append(m.get("n"))
        rows["Overall accuracy"].append(m.get("accuracy"))
        rows["One-off accuracy"].append(m.get("one_off_accuracy"))
        per_class = list(m.get("per_class_accuracy") or [])
        for i, name in enumerate(class_rows):
            rows[name].append(per_class[i] if i < len(per_class) else None)
        for name, where in _EXTRA_ROWS:
            rows[name].append(_get(m, where))
    table = pd.DataFrame(rows, index=list(metrics_by_model)).T.astype(float)
    # Rows no model reports (e.g. greyscale when never measured) would only add noise.
    return table.dropna(how="all")


def intervals(metrics_by_model: Mapping[str, Mapping[str, Any]],
              labels: Sequence[str]) -> dict[tuple[str, str], Sequence[float]]:
    """The 95% interval of each (row, model) cell of `table1` that has one."""
    out = {}
    for model, m in metrics_by_model.items():
        for row, key in _INTERVAL_KEYS.items():
            if m.get(key):
                out[(row, model)] = m[key]
        for row, interval in zip(_class_rows(labels), m.get("per_class_ci95") or ()):
            if interval:
                out[(row, model)] = interval
    return out


def paper_table(labels: Sequence[str] = PAPER_LABELS) -> pd.DataFrame:
    """The paper's Table 1 as published (class rows named by `labels`), with its test
    set's size."""
    return table1({model: {**m, "n": PAPER_TEST_N} for model, m in TABLE1.items()}, labels)


# Rows that are not shares of images: shown as plain numbers, not percentages.
RATIO_ROWS = ("Quadratic weighted kappa",)
COUNT_ROWS = (N_ROW,)
DELTA_PREFIX = "Δ "


def _pp(value: float) -> str:
    return f"{100 * value:+.2f} pp"


def styled(table: pd.DataFrame,
           cell_intervals: Mapping[tuple[str, str], Sequence[float]] | None = None):
    """A Styler showing shares as percentages (with both ends of the 95% interval where
    `cell_intervals` gives one; differences in signed percentage points, 'pp', without
    colour), the kappa row as a plain number and n as a count, '—' for missing values."""
    deltas = [c for c in table.columns if str(c).startswith(DELTA_PREFIX)]
    values = [c for c in table.columns if c not in deltas]
    shares = [r for r in table.index if r not in RATIO_ROWS + COUNT_ROWS]
    ratios = [r for r in table.index if r in RATIO_ROWS]
    counts = [r for r in table.index if r in COUNT_ROWS]
    style = table.style
    for rows, cols, fmt in ((shares, values, "{:.2%}"), (shares, deltas, _pp),
                            (ratios, values, "{:.3f}"), (ratios, deltas, "{:+.3f}"),
                            (counts, values, "{:,.0f}"), (counts, deltas, "—")):
        if rows and cols:
            style = style.format(fmt, subset=pd.IndexSlice[rows, cols], na_rep="—")
    for (row, col), interval in (cell_intervals or {}).items():
        if row in shares and col in values:
            style = style.format(lambda v, ci=interval: with_interval(v, ci),
                                 subset=pd.IndexSlice[[row], [col]])
    return style


def with_interval(value: float | None, interval: Sequence[float]) -> str:
    """'76.1% (73.1-79.1)': the share and its 95% interval, which is lopsided near 0 and
    100% (a bootstrap percentile interval), so both ends are shown."""
    if value is None or pd.isna(value):
        return "—"
    low, high = interval
    return f"{100 * value:.1f}% ({100 * low:.1f}–{100 * high:.1f})"


def with_deltas(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """`table` plus one 'Δ <model>' column per other model: its value minus the baseline's."""
    out = table.copy()
    for column in table.columns:
        if column != baseline:
            out[f"{DELTA_PREFIX}{column}"] = table[column] - table[baseline]
    return out
