"""The Present page."""
from __future__ import annotations

import random
import re

from dashboard.plain_words import PRIOR_EXPLAINED
from storage import runs
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import DASHBOARD, run_page
from tests.dashboard.seed import open_home, seed_prior_metrics, seed_smoke_ensemble


def report_html(at) -> str:
    """The report Present exports for the run its picker shows, built as the page builds
    it from that run's catalog entry and test metrics (the browser test clicks the real
    button)."""
    from datetime import datetime, timezone

    from dashboard import charts, data, presentation

    k = data.key()
    run_id = at.selectbox(key="present-run").value
    return presentation.build_report(
        data.run_entry(k, run_id), data.metrics(k, run_id, "test"), "lead", [], [],
        [charts.per_class_bars(["a"], {"r": [0.5]})], labels=data.run(k, run_id)["labels"],
        when=datetime.now(timezone.utc))


def test_present_page_renders(seeded):
    """Check that the page renders without an exception and picks the ensemble."""
    at = run_page("present.py")
    assert not at.exception
    assert at.selectbox(key="present-run").value == seeded["runs"][2]


def test_headline_in_plain_words(seeded):
    """Check that the headline says how many in 100 faces land in the right 20-year group."""
    m = runs.get_metrics(open_home(seeded["gallery"].parents[1]), seeded["runs"][2], "test")
    at = run_page("present.py")
    assert at.markdown[0].value.startswith(
        f"### {round(100 * m['accuracy'])} in 100 faces are put in the right 20-year")


def test_weak_spot_is_the_most_confused_pair(seeded):
    """Check that the weak spots name 20-39 vs 40-59, the largest off-diagonal pair."""
    notes = [m.value for m in run_page("present.py").markdown if m.value.startswith("- ")]
    assert notes[0].startswith("- The model mixes up 20-39 and 40-59")


def test_gradcam_examples_have_one_sentence_each(seeded):
    """Check that each GradCAM example image comes with its sentence."""
    at = run_page("present.py")
    sentences = [m.value for m in at.markdown if "looked hardest" in m.value]
    assert len(at.get("image")) == len(sentences) == 3


def test_export_button_is_offered(seeded):
    """Check that the HTML export is offered as a download."""
    at = run_page("present.py")
    assert at.download_button[0].proto.label.startswith("Export the report")


def test_headline_carries_the_number_of_test_faces(seeded):
    """Check that the headline is followed by how many test faces it was measured on."""
    n = runs.get_metrics(open_home(seeded["gallery"].parents[1]), seeded["runs"][2], "test")["n"]
    assert run_page("present.py").caption[0].value == \
        f"Measured on {n:.0f} test faces the model never saw in training."


def test_present_shows_as_trained_and_population_figures(seeded):
    """Check that after a source-prior evaluation both figures are said in plain words,
    with the sentence on what the correction does."""
    seed_prior_metrics(open_home(seeded["gallery"].parents[1]), seeded["runs"][2],
                       random.Random(1))
    texts = [m.value for m in run_page("present.py").markdown]
    assert any(t.startswith("- As trained (balanced classes):") for t in texts)
    assert any(t.startswith("- For the population's age mix: 81 in 100") for t in texts)
    assert any(PRIOR_EXPLAINED in t for t in texts)


def test_present_without_a_prior_evaluation_shows_no_comparison(seeded):
    """Check that the comparison is left out until the population mix was evaluated."""
    texts = [m.value for m in run_page("present.py").markdown]
    assert not any("population's age mix" in t for t in texts)


def test_present_says_who_it_works_for_and_how_sure_it_is(seeded):
    """Check the two sections: per-group sentences with n and bars with intervals, and
    the sentence on confidence with the reliability chart."""
    from tests.dashboard.conftest import plotly_specs

    at = run_page("present.py")
    headers = [h.value for h in at.subheader]
    assert "Who it works for" in headers and "How sure it is" in headers
    texts = [m.value for m in at.markdown]
    assert any(t.startswith("- It is") and "n=" in t for t in texts)
    assert any("Its stated confidence is off by" in t for t in texts)
    titles = [s["layout"]["title"]["text"] for s in plotly_specs(at)]
    assert "Accuracy by gender (95% intervals)" in titles
    assert any(t.startswith("How sure it is, and how often it is right") for t in titles)


def test_an_ensemble_is_called_better_than_a_member_only_when_the_interval_says_so(seeded):
    """Check one sentence per member, each 'better' or 'no clear difference' (or worse)
    with its interval, McNemar's p and n."""
    at = run_page("present.py")
    assert "Is the ensemble better than its members?" in [h.value for h in at.subheader]
    sentences = [m.value for m in at.markdown
                 if m.value.startswith(("- The ensemble", "- No clear difference"))]
    assert len(sentences) == 2
    for sentence in sentences:
        low = float(sentence.split("95% interval ")[1].split(" to ")[0])
        assert ("is better than" in sentence) == (low > 0)
        assert "McNemar p" in sentence and "n = 116 faces" in sentence


def test_present_shows_only_the_runs_own_explanation(seeded):
    """Check that the ensemble is shown with its own occlusion overlays, not its members'."""
    at = run_page("present.py")
    sentences = [m.value for m in at.markdown if "looked hardest" in m.value]
    assert sentences and all(f"ensemble#{seeded['runs'][2]}" in s for s in sentences)
    assert any("own explanation, by occlusion" in c.value for c in at.caption)


def test_a_run_without_its_own_explanation_says_so_and_offers_one(seeded, dispatched):
    """Check that a member with no gallery of its own (here: the GradCAM gallery is the
    members', so pick a run without any) borrows nothing, says so, and its button queues
    an occlusion job for it."""
    from storage.jobs import list_jobs
    from tests.dashboard.seed import seed_run

    db = open_home(seeded["gallery"].parents[1])
    lone = seed_run(db, seeded["gallery"].parents[1], seeded["dataset"], "lone", "train",
                    "efficientnet_lite0", random.Random(3), files=False)
    at = AppTest.from_file(str(DASHBOARD / "views" / "present.py"), default_timeout=60)
    at.query_params["run"] = str(lone.id)
    at.run()
    assert not at.get("image")
    assert any(f"Run #{lone.id} has no explanation of its own yet" in i.value for i in at.info)
    at.button(key="present-explain").click().run()
    job = list_jobs(db, limit=1)[0]
    assert (job.kind, job.params["runs"], job.params["method"]) == ("gradcam", [lone.id],
                                                                     "occlusion")


def test_with_a_newer_smoke_run_present_still_opens_on_the_real_ensemble(seeded):
    """Check that a smoke pipeline's ensemble, newer than everything, is not the default."""
    seed_smoke_ensemble(seeded["gallery"].parents[1])
    assert run_page("present.py").selectbox(key="present-run").value == seeded["runs"][2]


def test_the_figures_say_76_in_100_not_8_in_10(seeded):
    """Check that no sentence on the page counts in tens."""
    texts = [m.value for m in run_page("present.py").markdown]
    assert not any(re.search(r"\b\d+ in 10\b", t) for t in texts)


def test_the_exported_report_of_our_ensemble_claims_no_reproduction(seeded):
    """Check that the report exported for the seeded ensemble (vgg19 + resnet152v2 with
    the cpu preset: not the paper's recipe) holds no "reproduces" claim, and holds our
    own table and the number of test faces."""
    at = run_page("present.py")
    n = runs.get_metrics(open_home(seeded["gallery"].parents[1]), seeded["runs"][2], "test")["n"]
    html = report_html(at)
    assert "reproduces" not in html
    assert "Our results" in html and f"n = {n:.0f}" in html and "different data" in html


def test_truncated_gradcam_examples_show_placeholders_not_a_crash(seeded, read_only):
    """Check that in read-only mode the Present page renders with truncated overlay PNGs:
    no exception, no image, a placeholder naming the file for each example."""
    from tests.dashboard.views.test_gallery import truncate_overlays

    names = truncate_overlays(seeded["gallery"])
    at = run_page("present.py")
    assert not at.exception and not at.get("image")
    placeholders = [c.value for c in at.caption if "cannot be shown" in c.value]
    assert len(placeholders) == 3 and all(any(n in p for n in names) for p in placeholders)
