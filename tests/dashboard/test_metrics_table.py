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


def test_cells_with_an_interval_show_both_ends_and_n_is_a_count():
    """Check that a share with a 95% interval reads '76.1% (73.1–79.1)', a share without
    one keeps its plain percentage, n reads as a count, and n's difference column is '—'."""
    metrics = {"a": {"n": 1234, "accuracy": 0.761, "accuracy_ci95": [0.731, 0.791],
                     "one_off_accuracy": 0.99, "per_class_accuracy": [0.5],
                     "per_class_ci95": [[0.4, 0.6]]},
               "b": {"n": 800, "accuracy": 0.70}}
    table = metrics_table.with_deltas(metrics_table.table1(metrics, ["x"]), "a")
    html = metrics_table.styled(table, metrics_table.intervals(metrics, ["x"])).to_html()
    assert "76.1% (73.1–79.1)" in html and "50.0% (40.0–60.0)" in html and "99.00%" in html
    assert "1,234" in html and "70.00%" in html
    assert table.loc["Test faces (n)"].tolist()[:2] == [1234, 800]
    assert table.loc["Test faces (n)", "Δ b"] == -434 and "-434" not in html


def test_paper_table_says_its_test_set_size():
    """Check that the paper's columns carry its 3,757 test faces."""
    assert metrics_table.paper_table().loc["Test faces (n)"].tolist() == [3757] * 3
