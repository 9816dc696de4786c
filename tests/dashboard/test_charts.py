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
    assert list(fig.data[0].text[0]) == ["75%", "25%"]


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


def test_empty_confusion_rows_show_a_dash():
    """Check that a class without test faces shows '—' in its row-% cells."""
    fig = charts.confusion_heatmap([[0, 0], [1, 3]], ["a", "b"], normalized=True)
    assert list(fig.data[0].text[0]) == ["—", "—"]


def test_matrices_drawn_with_one_zmax_share_their_colour_scale():
    """Check that two count matrices given the same zmax both run from 0 to it, and a
    row-% matrix from 0 to 100."""
    small = charts.confusion_heatmap([[1, 0], [0, 1]], ["a", "b"], zmax=40)
    large = charts.confusion_heatmap([[40, 0], [3, 9]], ["a", "b"], zmax=40)
    rows = charts.confusion_heatmap([[1, 3], [2, 2]], ["a", "b"], normalized=True)
    assert [(f.data[0].zmin, f.data[0].zmax) for f in (small, large, rows)] == \
        [(0, 40), (0, 40), (0, 100)]


def test_bar_charts_say_their_number_of_test_faces():
    """Check that the per-class bars carry n in the title and per class, and the group
    bars in the title."""
    bars = charts.per_class_bars(["a", "b"], {"run": [0.5, 0.7]}, n=30, n_per_class=[10, 20])
    groups = charts.group_accuracy_bars(0.6, {"men": 0.6}, n=30)
    assert bars.layout.title.text == "Accuracy per age group (n = 30 test faces)"
    assert bars.data[0].x == ("a<br>n=10", "b<br>n=20")
    assert groups.layout.title.text == "Accuracy by group (n = 30 test faces)"


def test_no_legend_can_overlap_an_axis_title():
    """Check that every chart with a legend puts it at the figure's bottom edge, below a
    margin that holds the x-axis title, never inside the plotting area's margin."""
    figures = [charts.per_class_bars(["a"], {"run": [0.5]}, reference={"paper": [0.6]}),
               charts.training_curves([{"loss": 1.0, "val_loss": 1.2}] * 2),
               charts.curves_of_runs({"#1": [{"val_accuracy": 0.5}], "#2": [{"val_accuracy": 0.6}]})]
    for fig in figures:
        legend = fig.layout.legend
        assert (legend.orientation, legend.yref, legend.yanchor, legend.y) == \
            ("h", "container", "bottom", 0)
        assert fig.layout.margin.b >= charts.LEGEND_MARGIN


def test_curves_of_runs_draw_one_line_per_run():
    """Check that the chosen runs' validation accuracy is one line each, named by run."""
    fig = charts.curves_of_runs({"#1 a": [{"val_accuracy": 0.5}] * 3, "#2 b": [{"val_accuracy": 0.6}]})
    assert [t.name for t in fig.data] == ["#1 a", "#2 b"] and fig.data[0].y == (0.5, 0.5, 0.5)
