"""The Compare page."""
from __future__ import annotations

from tests.dashboard.conftest import plotly_specs, run_page


def test_compare_page_renders(seeded):
    """Check that the page compares the three newest runs without an exception."""
    at = run_page("compare.py")
    assert not at.exception
    assert at.multiselect(key="compare-runs").value == seeded["runs"][::-1]


def test_table_has_metrics_down_and_models_across(seeded):
    """Check that the comparison table has Table 1's rows and one column per run."""
    at = run_page("compare.py")
    table = at.dataframe[-1].value
    assert list(table.index[:7]) == ["Overall accuracy", "One-off accuracy", "Class 0 (1-19)",
                                     "Class 1 (20-39)", "Class 2 (40-59)", "Class 3 (60-79)",
                                     "Class 4 (80-99)"]
    assert "#1 vgg19-paper" in table.columns and "paper Ensemble" in table.columns


def test_differences_are_against_the_chosen_baseline(seeded):
    """Check that choosing a baseline gives Δ columns equal to each run minus it."""
    at = run_page("compare.py")
    at.selectbox(key="compare-baseline").set_value("paper VGG-19").run()
    table = at.dataframe[-1].value
    delta = table.loc["Overall accuracy", "Δ #1 vgg19-paper"]
    expected = table.loc["Overall accuracy", "#1 vgg19-paper"] - 0.6718
    assert abs(delta - expected) < 1e-9 and "Δ paper VGG-19" not in table.columns


def test_confusion_matrices_side_by_side(seeded):
    """Check that each compared run gets its own confusion heatmap."""
    titles = [s["layout"]["title"]["text"] for s in plotly_specs(run_page("compare.py"))]
    assert titles[1:] == ["#3 ensemble-meta", "#2 resnet-paper", "#1 vgg19-paper"]


def test_runs_table_is_paged(agerec_home):
    """Check that with more runs than a page the table shows one page and a pager."""
    from tests.dashboard.seed import seed_home

    seed_home(agerec_home, n_runs=30, gallery=False, jobs=False)
    at = run_page("compare.py")
    assert len(at.dataframe[0].value) == 25
    assert at.number_input(key="compare-page").value == 1


def test_each_run_is_tested_against_the_baseline_on_the_same_faces(seeded):
    """Check that every other run gets a sentence and a table row with the paired
    difference, its interval, McNemar's p and n, and 'better' only with an interval
    above 0."""
    at = run_page("compare.py")
    assert "Is the difference real?" in [h.value for h in at.subheader]
    baseline = at.selectbox(key="compare-significance-baseline").value
    sentences = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert len(sentences) == 2 and all("n = 116 faces" in s for s in sentences)
    table = at.table[0].value
    assert len(table) == 2 and {"95% interval", "McNemar p", "verdict", "n"} <= set(table.columns)
    for verdict, interval in zip(table["verdict"], table["95% interval"]):
        low = float(interval.split(" to ")[0])
        assert (verdict == "better") == (low > 0)
    assert f"#{baseline} " not in " ".join(table.index)


def test_per_class_bars_of_every_run_have_error_bars(seeded):
    """Check that each compared run's per-class bars carry their intervals."""
    bars = plotly_specs(run_page("compare.py"))[0]["data"]
    assert all(len(b["error_y"]["array"]) == 5 for b in bars[:3])
