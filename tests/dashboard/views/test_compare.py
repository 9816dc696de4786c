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
