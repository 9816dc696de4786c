"""The Results page of one run."""
from __future__ import annotations

import random
import re

from dashboard.plain_words import PRIOR_EXPLAINED
from storage import runs as stored_runs
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import DASHBOARD, captions_of_images, plotly_specs, run_page
from tests.dashboard.seed import open_home, seed_prior_metrics, seed_smoke_ensemble


def test_results_page_renders(seeded):
    """Check that the page renders the newest ensemble without an exception and puts it
    in the address."""
    at = run_page("results.py")
    assert not at.exception
    assert at.selectbox(key="results-run").value == seeded["runs"][-1]
    assert at.query_params["run"] == str(seeded["runs"][-1])


def page(**query) -> AppTest:
    """The Results page opened at an address with these query parameters."""
    at = AppTest.from_file(str(DASHBOARD / "views" / "results.py"), default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = str(value)
    return at.run()


def test_the_address_chooses_the_run(seeded):
    """Check that ?run=<id> opens that run."""
    assert page(run=seeded["runs"][0]).selectbox(key="results-run").value == seeded["runs"][0]


def test_a_missing_run_id_says_so(seeded):
    """Check that ?run=99 says there is no run #99 and shows the default run instead."""
    at = page(run=99)
    assert any("There is no run #99" in w.value for w in at.warning)
    assert at.selectbox(key="results-run").value == seeded["runs"][-1]


def test_picking_another_run_updates_the_address(seeded):
    """Check that choosing another run in the picker writes it to ?run=."""
    at = run_page("results.py")
    at.selectbox(key="results-run").set_value(seeded["runs"][0]).run()
    assert at.query_params["run"] == str(seeded["runs"][0])


def test_a_newer_smoke_run_does_not_become_the_default(seeded):
    """Check that after a smoke pipeline the page still opens on the real ensemble, and
    lists the smoke runs only on request."""
    smoke = seed_smoke_ensemble(seeded["gallery"].parents[1])
    at = run_page("results.py")
    assert at.selectbox(key="results-run").value == seeded["runs"][-1]
    assert smoke not in at.selectbox(key="results-run").options
    at.toggle(key="results-run-all").set_value(True).run()
    assert any(o.startswith(f"#{smoke} ") for o in at.selectbox(key="results-run").options)


def test_run_labels_say_preset_test_faces_accuracy_and_status(seeded):
    """Check that the picker's labels name the preset, the test faces, the accuracy and
    the status."""
    label = run_page("results.py").selectbox(key="results-run").options[0]
    assert re.search(r" · preset cpu · \d+ test faces · \d+\.\d% · succeeded$", label)


def test_differences_from_the_paper_are_neutral_pp_with_the_caption(seeded):
    """Check that the headline's difference from the paper is in pp, drawn without a
    green or red colour, and the caption says different models / different data / n."""
    at = run_page("results.py")
    accuracy = next(m for m in at.metric if m.label == "Accuracy")
    assert accuracy.delta.endswith(" pp vs paper")
    assert "color: GRAY" in str(accuracy.proto)
    n = stored_runs.get_metrics(open_home(seeded["gallery"].parents[1]), seeded["runs"][-1],
                                "test")["n"]
    assert any("different models (ours: vgg19 + resnet152v2" in c.value and "different data"
               in c.value and f"n = {n:.0f} test faces here" in c.value for c in at.caption)


def test_headline_shows_accuracy_and_one_off(seeded):
    """Check that the headline metrics are the run's accuracy and one-off accuracy."""
    m = stored_runs.get_metrics(open_home(seeded["gallery"].parents[1]), seeded["runs"][-1], "test")
    at = run_page("results.py")
    shown = {metric.label: metric.value for metric in at.metric}
    assert shown["Accuracy"] == f"{100 * m['accuracy']:.2f}%"
    assert shown["One-off accuracy"] == f"{100 * m['one_off_accuracy']:.2f}%"


def test_results_draw_every_chart_with_n(seeded):
    """Check that a member's page draws the per-class bars, the confusion heatmap, the
    training curves, the group bars (each bar chart with its number of test faces), the
    per-group bars with intervals, the reliability diagram and the coverage curve."""
    n = stored_runs.get_metrics(open_home(seeded["gallery"].parents[1]), seeded["runs"][0],
                                "test")["n"]
    titles = [spec["layout"]["title"]["text"]
              for spec in plotly_specs(page(run=seeded["runs"][0]))]
    assert titles == [f"Accuracy per age group (n = {n:.0f} test faces)", "Confusion matrix",
                      "Training curves", f"Accuracy by group (n = {n:.0f} test faces)",
                      "Accuracy by gender (95% intervals)", "Accuracy by race (95% intervals)",
                      f"How sure it is, and how often it is right (n = {n:.0f} test faces)",
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


def test_misclassified_faces_show_true_age_group_and_probabilities(seeded):
    """Check that the explorer's faces (mistakes first) show the true group and age, the
    predicted group and every class's probability."""
    captions = [c for c in captions_of_images(run_page("results.py")) if c.startswith("true ")]
    assert captions and all(re.match(r"true \S+ → predicted \S+ · age \d+ · \d+% sure · "
                                     r"1-19 \d+%, 20-39 \d+%", c) for c in captions)
    first = captions[0]
    assert first.split("true ")[1].split(" →")[0] != first.split("predicted ")[1].split(" ·")[0]


def test_explained_faces_link_to_their_explanation(seeded):
    """Check that each face the run's own gallery explains links to that face on the
    Explanations page."""
    at = page(run=seeded["runs"][0])
    at.selectbox(key="explorer-age").set_value(0).run()
    at.checkbox(key="explorer-mistakes").uncheck().run()
    links = [m.value for m in at.markdown if "Its explanation" in m.value]
    assert len(links) == 4
    assert all(f"/gallery?run={seeded['runs'][0]}&face=" in v for v in links)


def test_images_outside_the_allowed_folders_are_not_shown(seeded):
    """Check that a crop path outside AGEREC_HOME and the data roots shows no image, only a
    placeholder naming the file."""
    home = seeded["gallery"].parents[1]
    csv = home / "runs" / str(seeded["runs"][-1]) / "predictions.csv"
    csv.write_text("row,crop_path,true,pred\n0,/etc/hostname,1,2\n")
    at = run_page("results.py")
    assert not at.get("image")
    assert any("(image hostname cannot be shown)" in c.value for c in at.caption)


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
                if s["layout"]["title"]["text"].startswith("Accuracy by group"))
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
