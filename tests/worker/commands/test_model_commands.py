"""train, ensemble, evaluate, predict and gradcam from the command line, end to end on
a tiny prepared dataset with the smoke preset."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from tests.csv_source import make_csv_source
from tests.worker.commands.test_cli import run_json
from worker.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
METRIC_KEYS = {"run_id", "accuracy", "one_off_accuracy", "per_class_accuracy",
               "confusion_matrix", "macro_f1", "qwk", "greyscale_accuracy", "n"}
# An uneven source, 25 / 75 / 50 / 25 / 25 faces per class in 200, that balancing evens out.
SOURCE_AGES = (5, 25, 25, 25, 45, 45, 65, 85)
SOURCE_MIX = [0.125, 0.375, 0.25, 0.125, 0.125]


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """A prepared dataset and two smoke members (efficientnet_lite0, dlib_face), made once."""
    home = tmp_path_factory.mktemp("home")
    patch = pytest.MonkeyPatch()
    patch.setenv("AGEREC_HOME", str(home))
    patch.delenv("AGEREC_BROKER_URL", raising=False)
    patch.delenv("AGEREC_DATABASE_URL", raising=False)
    csv = make_csv_source(home / "src", n=200, ages=SOURCE_AGES,
                          extra={"skin_tone": ("I", "II", "III")})
    ids = []
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["preprocess", "--source", "csv", "--path", str(csv), "--detector", "none",
                     "--image-size", "32"]) == 0
    for backbone in ("efficientnet_lite0", "dlib_face"):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert main(["train", "--dataset-id", "1", "--backbone", backbone, "--preset", "smoke",
                         "--json"]) == 0
        ids.append(json.loads(buffer.getvalue())["run_id"])
    yield ids
    patch.undo()


def _json(capsys, *argv):
    return run_json(capsys, *argv)


def test_train_prints_run_id_and_every_metric_key(members, capsys):
    """Check that a smoke training prints run_id and the documented metric keys."""
    code, out = _json(capsys, "evaluate", "--run-id", str(members[0]))
    assert code == 0 and METRIC_KEYS <= set(out)
    assert len(out["per_class_accuracy"]) == 5 and len(out["confusion_matrix"]) == 5


def test_evaluate_reports_calibration_with_the_temperature_stored_with_the_run(members,
                                                                            capsys):
    """Check that evaluate --json carries the ECE before and after the run's temperature
    and the reliability bins, and that the temperature is the one stored with the run."""
    from storage import runs
    from worker.context import AppContext

    code, out = _json(capsys, "evaluate", "--run-id", str(members[1]))
    assert code == 0
    assert out["temperature"] == runs.get_temperature(AppContext().db, members[1]) > 0
    calibration = out["calibration"]
    assert out["ece"] == calibration["ece_before"] and out["ece_calibrated"] == \
        calibration["ece_after"]
    assert len(calibration["bins_before"]) == 15 and calibration["coverage"][0]["n"] == out["n"]


def test_evaluate_json_carries_intervals_and_per_group_results(members, capsys):
    """Check that evaluate --json carries the headline intervals and, per attribute
    (gender, and the manifest's extra column), each group's accuracy, one-off, n and
    interval, and the largest gap with its interval."""
    code, out = _json(capsys, "evaluate", "--run-id", str(members[0]))
    assert code == 0
    for key in ("accuracy_ci95", "one_off_ci95", "balanced_accuracy_ci95"):
        assert len(out[key]) == 2 and out[key][0] <= out[key][1]
    assert set(out["per_group"]) == {"gender", "skin_tone"}
    tone = out["per_group"]["skin_tone"]
    assert set(tone) == {"I", "II", "III"} and sum(g["n"] for g in tone.values()) == out["n"]
    assert {"accuracy", "one_off_accuracy", "n", "ci95"} <= set(tone["I"])
    if "skin_tone" in out["max_gap"]:  # each group needs 20 test faces to be ranked
        assert {"gap", "ci95", "worst", "best"} <= set(out["max_gap"]["skin_tone"])


def test_compare_two_members_on_their_shared_test_split(members, capsys):
    """Check that agerec compare pairs the two members on the same test faces."""
    code, out = _json(capsys, "compare", "--runs", *map(str, members))
    assert code == 0 and out["baseline"] == members[0]
    (pair,) = out["pairs"]
    assert pair["run"] == members[1] and 0 <= pair["p_value"] <= 1
    assert pair["verdict"] in ("better", "worse", "no clear difference")


def test_ensemble_creates_a_run_that_evaluate_accepts(members, capsys):
    """Check that an averaging ensemble is a run of its own, evaluable like any other."""
    code, ens = _json(capsys, "ensemble", "--runs", *map(str, members), "--method", "average")
    assert code == 0 and METRIC_KEYS <= set(ens) and ens["run_id"] not in members
    code, again = _json(capsys, "evaluate", "--run-id", str(ens["run_id"]))
    assert code == 0 and again["accuracy"] == ens["accuracy"]


def test_a_meta_ensemble_s_temperature_is_fitted_out_of_fold(members, capsys):
    """Check that a meta ensemble's stored temperature is fitted on validation faces
    each scored by a meta-model fit without them, not on the faces it learned from."""
    from storage import runs
    from worker.context import AppContext

    code, ens = _json(capsys, "ensemble", "--runs", *map(str, members), "--method", "meta",
                      "--trials", "2")
    assert code == 0
    fit = runs.get_metrics(AppContext().db, ens["run_id"], scope="calibration")
    assert fit["fitted_on"].startswith("val, out of fold") and fit["temperature"] > 0


def test_an_averaging_ensemble_departs_from_its_members_preset(members, capsys):
    """Check that an averaging ensemble of smoke members records 'method' as its change
    from the preset's recipe (a meta-model), so it is listed with that departure."""
    from storage.catalog import get_entry
    from worker.context import AppContext

    code, ens = _json(capsys, "ensemble", "--runs", *map(str, members), "--method", "average")
    assert code == 0 and get_entry(AppContext().db, ens["run_id"]).departures == ("method",)


def test_ensemble_prediction_reuses_member_probabilities_from_the_memo(members, capsys):
    """Check that an ensemble predicted with a memo takes its members' probabilities from
    it (here a made-up certainty for class 3) and adds its own."""
    from storage import runs
    from worker.context import AppContext
    from worker.stages.predictions import predict
    from worker.stages.stage_context import StageContext

    code, ens = _json(capsys, "ensemble", "--runs", *map(str, members), "--method", "average")
    assert code == 0
    ctx = StageContext(app=AppContext(), progress=lambda *args: None)
    images = np.zeros((4, 32, 32, 3), np.uint8)
    certain = np.tile(np.eye(5, dtype=np.float32)[3], (4, 1))
    memo = {member: certain for member in members}
    probs = predict(ctx, runs.get_run(ctx.app.db, ens["run_id"]), images, memo=memo)
    # Real smoke members never output exact one-hots: these came from the memo.
    np.testing.assert_allclose(probs, certain, atol=1e-6)
    assert memo[ens["run_id"]] is probs


def test_evaluate_on_an_external_dataset_records_its_own_scope(members, tmp_path, capsys):
    """Check that evaluate --source/--path scores the run on outside images."""
    csv = make_csv_source(tmp_path / "outside", n=15, seed=7)
    code, out = _json(capsys, "evaluate", "--run-id", str(members[0]), "--source", "csv",
                      "--path", str(csv))
    assert code == 0 and out["scope"] == "external:csv" and out["n"] == 15


def test_evaluate_on_an_external_dataset_can_find_faces_with_another_detector(members, tmp_path,
                                                                            capsys):
    """Check that --detector replaces the run's dataset's detector ('none', which keeps every
    picture) for the outside images: HOG finds no face in noise, so nothing is scored."""
    csv = make_csv_source(tmp_path / "outside", n=6, seed=7)
    code = main(["evaluate", "--run-id", str(members[0]), "--source", "csv", "--path", str(csv),
                 "--detector", "hog"])
    assert code != 0 and "no usable face" in capsys.readouterr().err


def test_evaluate_under_the_source_prior_prints_the_prior_it_used(members, capsys):
    """Check that evaluate --target-prior source --json names its scope and the prior, with
    the source's class mix recorded at preprocessing as the weights, and the accuracies
    expected on a population with that mix."""
    code, out = _json(capsys, "evaluate", "--run-id", str(members[0]), "--target-prior", "source")
    assert code == 0 and out["scope"] == "test+prior:source"
    assert out["target_prior"]["name"] == "source"
    assert out["target_prior"]["weights"] == pytest.approx(SOURCE_MIX)
    assert METRIC_KEYS <= set(out)
    assert 0 <= out["population_accuracy"] <= 1 and 0 <= out["as_trained_population_accuracy"] <= 1


def test_evaluate_under_a_prior_records_its_own_scope(members, capsys):
    """Check that metrics under the source prior go to scope test+prior:source and leave
    the run's test scope as it was."""
    from storage import runs
    from worker.context import AppContext

    db = AppContext().db
    before = runs.get_metrics(db, members[1], "test")
    code, out = _json(capsys, "evaluate", "--run-id", str(members[1]), "--target-prior", "source")
    recorded = runs.get_metrics(db, members[1])
    assert code == 0 and recorded["test"] == before
    assert recorded["test+prior:source"]["accuracy"] == out["accuracy"]
    assert recorded["test+prior:source"]["target_prior"]["weights"] == pytest.approx(SOURCE_MIX)


def test_evaluate_with_a_wrong_count_of_weights_exits_2(members, capsys):
    """Check that three weights for the five-class run are an error naming its classes."""
    code, out = _json(capsys, "evaluate", "--run-id", str(members[0]), "--target-prior", "1,1,1")
    assert code == 2
    assert "5 weights, one per class of the run's scheme (1-19, 20-39" in out["error"]


def test_evaluate_with_an_unknown_prior_name_exits_2(members, capsys):
    """Check that a misspelt prior name is refused with what is allowed."""
    code, out = _json(capsys, "evaluate", "--run-id", str(members[0]), "--target-prior", "sorce")
    assert code == 2
    assert "'target_prior'" in out["error"] and "'sorce'" in out["error"]


def test_predict_under_a_prior_reweights_the_probabilities(members, tmp_path, capsys):
    """Check that predict --target-prior gives the as-trained probabilities moved from the
    train split's class mix to the given one (then calibrated by the run's temperature,
    as evaluation does)."""
    from backend.evaluation.calibration import apply_temperature
    from backend.evaluation.priors import prior_shift

    face = tmp_path / "face.jpg"
    Image.fromarray(skdata.astronaut()).save(face)
    _, plain = _json(capsys, "predict", "--run", str(members[0]), str(face))
    code, shifted = _json(capsys, "predict", "--run", str(members[0]), str(face),
                          "--target-prior", "6,1,1,1,1")
    prior = shifted["target_prior"]
    # The answers are calibrated: undo the temperature, shift the prior, calibrate again.
    temperature = shifted["temperature"] or 1.0
    raw = apply_temperature([plain["predictions"][0]["probabilities"]], 1 / temperature)
    expected = apply_temperature(prior_shift(raw, prior["train_weights"], prior["weights"]),
                                 temperature)[0]
    assert code == 0 and prior["name"] == "0.6,0.1,0.1,0.1,0.1"
    assert shifted["predictions"][0]["probabilities"] == pytest.approx(expected, abs=1e-3)
    assert plain["target_prior"]["name"] == "none"


def test_predict_gives_class_and_probabilities_per_image(members, tmp_path, capsys):
    """Check that predict returns a class and probabilities, and names an unreadable file."""
    good = tmp_path / "face.jpg"
    Image.fromarray(skdata.astronaut()).save(good)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff not really a jpeg")
    code, out = _json(capsys, "predict", "--run", str(members[0]), str(good), str(bad))
    first, second = out["predictions"]
    assert code == 0 and 0 <= first["class"] < 5
    assert np.isclose(sum(first["probabilities"]), 1.0, atol=1e-3)
    assert "broken.jpg" in second["error"]


def test_gradcam_skips_dlib_and_writes_the_table(members, capsys):
    """Check that gradcam explains the image member, skips dlib_face, and prints the table."""
    code, out = _json(capsys, "gradcam", "--runs", str(members[0]), str(members[1]),
                      "--per-class", "1")
    assert code == 0
    assert out["runs"] == [members[0]] and out["skipped_runs"][0]["run_id"] == members[1]
    columns = {"model", "colour", "outcome", "top10_mass", "entropy", "face_share",
               "deletion_auc", "insertion_auc", "random_deletion_auc", "accuracy"}
    assert columns <= set(out["table"][0])


def test_occlusion_explains_a_dlib_face_run_and_an_ensemble(members, capsys):
    """Check that gradcam --method occlusion explains the dlib_face member and an ensemble
    (neither has a feature map), writing overlays and scores for each, and records the
    gallery for each run with its method and model name."""
    from storage import artifacts
    from worker.context import AppContext

    code, ens = _json(capsys, "ensemble", "--runs", *map(str, members), "--method", "average")
    runs = [members[1], ens["run_id"]]
    code, out = _json(capsys, "gradcam", "--runs", *map(str, runs), "--method", "occlusion",
                      "--per-class", "1", "--occlusion-grid", "2", "--steps", "2")
    assert code == 0, out
    assert (out["runs"], out["skipped_runs"], out["method"]) == (runs, [], "occlusion")
    names = {f"dlib_face#{runs[0]}", f"ensemble#{runs[1]}"}
    assert {row["model"] for row in out["table"]} == names
    assert all(row["deletion_auc"] is not None for row in out["table"])
    recorded = {a.run_id: a.meta for a in artifacts.list_artifacts(AppContext().db, kind="gradcam")
                if a.run_id in runs}
    assert {m["model"] for m in recorded.values()} == names
    assert {m["method"] for m in recorded.values()} == {"occlusion"}
