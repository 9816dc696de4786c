"""Trust charts: error bars from intervals, per-group bars, reliability, clickable cells."""
from __future__ import annotations

from dashboard import charts, trust_charts


def test_error_bars_run_from_the_value_to_each_end_of_its_interval():
    """Check that 0.7 in [0.6, 0.75] gives +5 / -10 points, and no interval no bar."""
    bars = trust_charts.error_bars([0.7, 0.5], [[0.6, 0.75], None])
    assert [round(v, 6) for v in bars["array"][:1]] == [5.0] and bars["array"][1] is None
    assert round(bars["arrayminus"][0], 6) == 10.0
    assert trust_charts.error_bars([0.7], None) is None


def test_per_class_bars_get_the_run_s_intervals():
    """Check that add_intervals puts error bars on the named series only."""
    fig = charts.per_class_bars(["a", "b"], {"run": [0.5, 0.8]},
                                reference={"paper": [0.6, 0.7]})
    trust_charts.add_intervals(fig, "run", [[0.4, 0.6], [0.7, 0.9]])
    assert [round(v, 6) for v in fig.data[0].error_y.array] == [10.0, 10.0]
    assert fig.data[1].error_y.array is None


def test_group_bars_show_n_and_intervals():
    """Check that each group's bar names it in words with its n and carries its interval."""
    fig = trust_charts.group_bars("gender", {"F": {"accuracy": 0.7, "n": 50, "ci95": [0.6, 0.8]},
                                             "M": {"accuracy": 0.8, "n": 60,
                                                   "ci95": [0.7, 0.9]}}, overall=0.75)
    assert list(fig.data[0].x) == ["women<br>n=50", "men<br>n=60"]
    assert [round(v, 6) for v in fig.data[0].error_y.array] == [10.0, 10.0]


def test_reliability_diagram_draws_before_and_after_with_the_diagonal():
    """Check the diagonal and one line per set of bins, empty bins left out."""
    bins = [{"n": 0, "confidence": None, "accuracy": None},
            {"n": 10, "confidence": 0.9, "accuracy": 0.7}]
    fig = trust_charts.reliability_diagram({"temperature": 1.5, "n": 10, "bins_before": bins,
                                            "bins_after": bins})
    assert [t.name for t in fig.data] == ["perfectly calibrated", "as the model says",
                                          "after temperature 1.50"]
    assert list(fig.data[1].x) == [90.0]


def test_a_clicked_cell_is_read_back_from_the_selection_event():
    """Check that the invisible cell markers carry [true, predicted] and a selection event
    of one of them gives that cell back."""
    fig = trust_charts.clickable_cells(charts.confusion_heatmap([[1, 2], [3, 4]], ["a", "b"]),
                                       [[1, 2], [3, 4]], ["a", "b"])
    cells = fig.data[1]
    assert list(cells.x) == ["a", "b", "a", "b"] and list(cells.y) == ["a", "a", "b", "b"]
    event = {"selection": {"points": [{"x": "b", "y": "a", "customdata": [0, 1, 2]}]}}
    assert trust_charts.selected_cell(event) == (0, 1)
    assert trust_charts.selected_cell({"selection": {"points": []}}) is None
    assert trust_charts.selected_cell(None) is None
