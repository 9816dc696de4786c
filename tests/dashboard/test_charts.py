"""Plotly figure builders."""
from __future__ import annotations

from dashboard import charts


def test_row_percent_sums_each_row_to_100():
    """Check that every non-empty row of the normalised matrix sums to 100."""
    rows = charts.row_percent([[3, 1], [0, 4]])
    assert rows == [[75.0, 25.0], [0.0, 100.0]]


def test_row_percent_leaves_empty_rows_blank():
    """Check that a class without test images gives a row of None, not a division error."""
    assert charts.row_percent([[0, 0], [1, 1]])[0] == [None, None]


def test_confusion_heatmap_is_viridis_with_counts():
    """Check that the heatmap uses viridis and writes each count in its cell."""
    fig = charts.confusion_heatmap([[5, 1], [2, 7]], ["a", "b"])
    assert fig.data[0].colorscale[0][1] == "#440154"  # viridis starts at dark purple
    assert [list(row) for row in fig.data[0].text] == [["5", "1"], ["2", "7"]]


def test_confusion_heatmap_shows_row_percent():
    """Check that the normalised heatmap writes row percentages."""
    fig = charts.confusion_heatmap([[3, 1], [0, 4]], ["a", "b"], normalized=True)
    assert list(fig.data[0].text[0]) == ["75.0%", "25.0%"]


def test_per_class_bars_are_percent_with_reference():
    """Check that fractions become percentages and the reference is one more series."""
    fig = charts.per_class_bars(["a", "b"], {"run": [0.5, None]}, reference={"paper": [0.6, 0.7]})
    assert fig.data[0].y == (50.0, None) and fig.data[1].name == "paper"


def test_training_curves_plot_train_and_validation():
    """Check that loss, val_loss, accuracy and val_accuracy each get a line."""
    history = [{"loss": 1.0, "val_loss": 1.1, "accuracy": 0.5, "val_accuracy": 0.4,
                "stage": "frozen"}] * 3
    names = [trace.name for trace in charts.training_curves(history).data]
    assert names == ["loss", "val_loss", "accuracy", "val_accuracy"]


def test_training_curves_mark_stage_changes():
    """Check that a change of training stage draws one vertical marker."""
    history = [{"loss": 1.0, "stage": s} for s in ("frozen", "frozen", "cycle-1", "cycle-1")]
    assert len(charts.training_curves(history).layout.shapes) == 1


def test_group_bars_start_with_overall():
    """Check that the group bars put overall accuracy first, then the groups."""
    fig = charts.group_accuracy_bars(0.7, {"men": 0.72, "greyscale photos": None})
    assert fig.data[0].x == ("all test faces", "men", "greyscale photos")
