"""The Results page of one run."""
from __future__ import annotations

import random

from dashboard.plain_words import PRIOR_EXPLAINED
from storage import runs as stored_runs
from tests.dashboard.conftest import captions_of_images, plotly_specs, run_page
from tests.dashboard.seed import open_home, seed_prior_metrics


def test_results_page_renders(seeded):
    """Check that the page renders the newest run without an exception."""
    at = run_page("results.py")
    assert not at.exception
    assert at.selectbox(key="results-run").value == seeded["runs"][-1]


def test_headline_shows_accuracy_and_one_off(seeded):
    """Check that the headline metrics are the run's accuracy and one-off accuracy."""
    m = stored_runs.get_metrics(open_home(seeded["gallery"].parents[1]), seeded["runs"][-1], "test")
    at = run_page("results.py")
    shown = {metric.label: metric.value for metric in at.metric}
    assert shown["Accuracy"] == f"{100 * m['accuracy']:.2f}%"
    assert shown["One-off accuracy"] == f"{100 * m['one_off_accuracy']:.2f}%"


def test_results_draw_every_chart(seeded):
    """Check that per-class bars, the confusion heatmap, training curves, the group bars,
    per-group bars with intervals, the reliability diagram and the coverage curve are all
    drawn."""
    titles = [spec["layout"]["title"]["text"] for spec in plotly_specs(run_page("results.py"))]
    assert titles == ["Accuracy per age group", "Confusion matrix", "Training curves",
                      "Accuracy by group", "Accuracy by gender (95% intervals)",
                      "Accuracy by race (95% intervals)",
                      "How sure it is, and how often it is right (n = 116 test faces)",
                      "Answering only when sure enough"]


def test_per_class_bars_include_the_paper_reference(seeded):
    """Check that an ensemble run's per-class bars carry the paper's ensemble values."""
    bars = plotly_specs(run_page("results.py"))[0]["data"]
    assert bars[1]["name"] == "paper Ensemble" and round(bars[1]["y"][0], 2) == 69.76


def test_confusion_switch_shows_row_percentages(seeded):
    """Check that the counts / row-% switch redraws the heatmap as row percentages."""
    at = run_page("results.py")
    at.segmented_control(key="confusion").set_value("row %").run()
    heatmap = plotly_specs(at)[1]["data"][0]
    assert heatmap["text"][0][0].endswith("%")
    assert abs(sum(v for v in heatmap["z"][0] if v is not None) - 100) < 1e-6


def test_misclassified_sample_shows_true_and_predicted(seeded):
    """Check that misclassified faces are shown with their true and predicted group."""
    captions = captions_of_images(run_page("results.py"))
    assert captions and all("true " in c and "→ predicted" in c for c in captions)
    assert all(c.split("true ")[1].split(" →")[0] != c.split("predicted ")[1] for c in captions)


def test_images_outside_the_allowed_folders_are_not_shown(seeded):
    """Check that a crop path outside AGEREC_HOME and the dataset roots shows no image."""
    home = seeded["gallery"].parents[1]
    csv = home / "runs" / str(seeded["runs"][-1]) / "predictions.csv"
    csv.write_text("row,crop_path,true,pred\n0,/etc/hostname,1,2\n")
    at = run_page("results.py")
    assert not at.get("image")
    assert any("image not available" in c.value for c in at.caption)


def test_empty_results_page_says_how_to_start(empty_home):
    """Check that without runs the page says how to train one."""
    assert "No runs yet" in run_page("results.py").info[0].value


def _seed_prior(seeded) -> dict:
    """Source-prior metrics for the newest run (the one the page opens on)."""
    db = open_home(seeded["gallery"].parents[1])
    return seed_prior_metrics(db, seeded["runs"][-1], random.Random(1))


def test_results_show_as_trained_and_population_figures_with_n(seeded):
    """Check that a run evaluated under the source prior shows its accuracy as trained and
    for the population's age mix, each with the number of test images."""
    home = seeded["gallery"].parents[1]
    m = stored_runs.get_metrics(open_home(home), seeded["runs"][-1], "test")
    pm = _seed_prior(seeded)
    at = run_page("results.py")
    shown = {metric.label: metric.value for metric in at.metric}
    assert shown["As trained (balanced classes)"] == f"{100 * m['accuracy']:.2f}%"
    assert shown["For the population's age mix"] == "81.00%"
    captions = [c.value for c in at.caption]
    assert any(c.startswith(f"on {m['n']:.0f} test images") for c in captions)
    assert any(c.startswith(f"on the same {pm['n']:.0f} test images") and "20-39 45%" in c
               for c in captions)


def test_results_explain_the_correction_in_one_sentence(seeded):
    """Check that the page says in plain words what the correction does."""
    _seed_prior(seeded)
    assert PRIOR_EXPLAINED in [c.value for c in run_page("results.py").caption]


def test_results_without_a_prior_evaluation_say_how_to_run_one(seeded):
    """Check that a run never evaluated under a target prior points to the command."""
    at = run_page("results.py")
    assert any(f"--run-id {seeded['runs'][-1]} --target-prior source" in i.value for i in at.info)


def test_per_class_bars_add_the_corrected_model(seeded):
    """Check that after a source-prior evaluation the per-class bars show the corrected
    model's per-class accuracy beside the model as trained."""
    pm = _seed_prior(seeded)
    bars = plotly_specs(run_page("results.py"))[0]["data"]
    corrected = next(b for b in bars if b["name"] == "corrected for the population's age mix")
    assert corrected["y"] == [100 * v for v in pm["per_class_accuracy"]]


def test_headline_numbers_have_their_intervals_and_n(seeded):
    """Check that a caption gives the accuracy, one-off and balanced accuracy as ± with
    the number of test faces."""
    captions = [c.value for c in run_page("results.py").caption]
    line = next(c for c in captions if c.startswith("95% intervals"))
    assert "of the 116 test faces" in line and line.count("±") == 3


def test_per_class_bars_have_error_bars(seeded):
    """Check that the run's per-class bars carry asymmetric error bars, one per class."""
    bars = plotly_specs(run_page("results.py"))[0]["data"][0]
    assert len(bars["error_y"]["array"]) == 5 and len(bars["error_y"]["arrayminus"]) == 5


def test_who_it_works_for_and_how_sure_it_is_are_shown(seeded):
    """Check both sections: per-group sentences with n, and the calibration sentence."""
    at = run_page("results.py")
    headers = [h.value for h in at.subheader]
    assert "Who it works for" in headers and "How sure it is" in headers
    text = " ".join(m.value for m in at.markdown)
    assert "women" in text and "n=58" in text
    assert "Its stated confidence is off by" in text and "temperature 1.30" in text


def test_group_filter_shows_that_group_s_faces(seeded):
    """Check that choosing women, 60-79, mistakes only shows exactly those faces of the
    predictions table, each caption a 60-79 face."""
    import pandas as pd

    home = seeded["gallery"].parents[1]
    preds = pd.read_csv(home / "runs" / str(seeded["runs"][-1]) / "predictions.csv")
    want = preds[(preds["gender"] == "F") & (preds["true"] == 3) & (preds["pred"] != 3)]
    at = run_page("results.py")
    at.selectbox(key="explorer-attribute").set_value("gender").run()
    at.selectbox(key="explorer-group").set_value("F").run()
    at.selectbox(key="explorer-age").set_value(3).run()
    captions = captions_of_images(at)
    assert len(captions) == len(want) > 0
    assert all(c.startswith("true 60-79 → predicted") for c in captions)


def test_group_bars_have_intervals_for_everyone_men_and_women(seeded):
    """Check that the 'Accuracy by group' bars carry error bars except for greyscale."""
    spec = next(s for s in plotly_specs(run_page("results.py"))
                if s["layout"]["title"]["text"] == "Accuracy by group")
    plus = spec["data"][0]["error_y"]["array"]
    assert [v is not None for v in plus] == [True, True, True, False]


def test_explorer_shows_the_gradcam_overlay_of_faces_in_the_run_s_gallery(seeded):
    """Check that faces the run's gallery explained come with their overlay: run 1's
    gallery holds faces 0-3, all of 1-19."""
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import DASHBOARD

    at = AppTest.from_file(str(DASHBOARD / "views" / "results.py"), default_timeout=60)
    at.query_params["run"] = str(seeded["runs"][0])
    at.run()
    at.selectbox(key="explorer-age").set_value(0).run()
    at.checkbox(key="explorer-mistakes").uncheck().run()
    overlays = [c for c in captions_of_images(at) if c.startswith("GradCAM")]
    assert len(overlays) == 4
