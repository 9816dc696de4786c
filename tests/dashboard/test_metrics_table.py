"""Table 1-shaped tables."""
from __future__ import annotations

from dashboard import metrics_table


def test_paper_table_has_table_1_values():
    """Check that the paper's table holds Table 1's published numbers."""
    table = metrics_table.paper_table()
    assert table.loc["Overall accuracy"].tolist() == [0.6718, 0.6444, 0.7027]
    assert table.loc["One-off accuracy"].tolist() == [0.9752, 0.9598, 0.9808]
    assert table.loc["Class 3 (60-79)"].tolist() == [0.5932, 0.5459, 0.5636]


def test_table1_drops_metrics_no_model_reports():
    """Check that a metric no model has (greyscale here) gets no row."""
    table = metrics_table.table1({"a": {"accuracy": 0.5, "per_class_accuracy": [0.4]}}, ["x"])
    assert list(table.index) == ["Overall accuracy", "Class 0 (x)"]


def test_deltas_are_against_the_baseline():
    """Check that each Δ column is that model minus the baseline, and none for it."""
    table = metrics_table.table1({"a": {"accuracy": 0.5}, "b": {"accuracy": 0.7}}, [])
    out = metrics_table.with_deltas(table, "a")
    assert list(out.columns) == ["a", "b", "Δ b"]
    assert abs(out.loc["Overall accuracy", "Δ b"] - 0.2) < 1e-12


def test_styled_shows_percent_and_kappa_as_number():
    """Check that shares read as percentages and kappa as a plain number."""
    table = metrics_table.table1({"a": {"accuracy": 0.6718, "qwk": 0.81234}}, [])
    html = metrics_table.styled(table).to_html()
    assert "67.18%" in html and "0.812" in html and "81.23%" not in html
