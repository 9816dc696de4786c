"""The Compare page."""
from __future__ import annotations

import re

from tests.dashboard.conftest import plotly_specs, run_page
from tests.dashboard.seed import seed_smoke_ensemble


def test_compare_opens_on_the_ensemble_and_its_members(seeded):
    """Check that the page opens on the newest real ensemble and its members, and writes
    them to ?runs=."""
    at = run_page("compare.py")
    ens, members = seeded["runs"][2], seeded["runs"][:2]
    assert not at.exception
    assert at.multiselect(key="compare-runs").value == [ens, *members]
    assert at.query_params["runs"] == ",".join(map(str, [ens, *members]))


def test_the_address_chooses_the_runs(seeded):
    """Check that ?runs=1,2 opens on exactly those runs."""
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import DASHBOARD

    at = AppTest.from_file(str(DASHBOARD / "views" / "compare.py"), default_timeout=60)
    at.query_params["runs"] = f"{seeded['runs'][0]},{seeded['runs'][1]}"
    at.run()
    assert at.multiselect(key="compare-runs").value == seeded["runs"][:2]


def test_a_newer_smoke_ensemble_does_not_become_the_selection(seeded):
    """Check that a smoke pipeline's ensemble, newer than the real one, is not chosen."""
    smoke = seed_smoke_ensemble(seeded["gallery"].parents[1])
    value = run_page("compare.py").multiselect(key="compare-runs").value
    assert smoke not in value and value[0] == seeded["runs"][2]


def test_table_has_metrics_down_and_models_across(seeded):
    """Check that the comparison table has n, Table 1's rows and one column per run."""
    table = run_page("compare.py").dataframe[-1].value
    assert list(table.index[:8]) == ["Test faces (n)", "Overall accuracy", "One-off accuracy",
                                     "Class 0 (1-19)",
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


def test_settings_of_the_runs_stand_side_by_side(seeded):
    """Check that a settings table names each run's preset, backbone, image size, epochs
    and dataset, and marks the rows where they differ."""
    at = run_page("compare.py")
    table = next(d.value for d in at.dataframe if "differs" in d.value.columns)
    assert {"preset", "backbone", "image size", "epochs", "dataset",
            "dataset size (faces)"} <= set(table.index)
    assert table.loc["backbone", "differs"] == "yes"
    assert table.loc["backbone", "#1 vgg19-paper"] == "vgg19"


def test_confusion_matrices_share_one_colour_scale(seeded):
    """Check that each compared run gets its own heatmap, all on one colour scale."""
    specs = [s for s in plotly_specs(run_page("compare.py")) if s["data"][0]["type"] == "heatmap"]
    assert [s["layout"]["title"]["text"] for s in specs] == \
        ["#3 ensemble-meta", "#1 vgg19-paper", "#2 resnet-paper"]
    assert {(s["data"][0]["zmin"], s["data"][0]["zmax"]) for s in specs} == {(0, 100)}


def test_training_curves_of_the_chosen_runs_share_one_chart(seeded):
    """Check that the members' validation accuracy is drawn on one chart, one line each."""
    specs = plotly_specs(run_page("compare.py"))
    curves = next(s for s in specs if s["layout"]["title"]["text"].startswith("Training curves"))
    assert [t["name"] for t in curves["data"]] == ["#1 vgg19-paper", "#2 resnet-paper"]


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


def test_accuracies_carry_their_interval(seeded):
    """Check that the comparison table shows the runs' accuracies with both ends of their
    95% interval, and says what the brackets are."""
    at = run_page("compare.py")
    shown = at.dataframe[-1].proto.arrow_data.styler.display_values  # the cells as text
    assert re.search(r"\d+\.\d% \(\d+\.\d–\d+\.\d\)", shown.decode("utf-8", "replace"))
    assert any("95% interval" in c.value for c in at.caption)
