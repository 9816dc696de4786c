"""Tests of worker/interactive/answers.py on tiny recorded runs (random weights)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from storage import runs
from tests.worker.conftest import jpeg_bytes
from worker.context import AppContext
from worker.interactive.answers import answer, load_run

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def ready(tiny_home):
    return load_run(AppContext(), tiny_home[1]["ensemble"])


def test_a_portrait_gets_one_face_with_its_group_probabilities_overlay_and_photo(ready,
                                                                                 portrait):
    """Check that the astronaut photo is answered with one face: a box, a group among the
    run's labels, five probabilities, a GradCAM overlay PNG and the annotated JPEG."""
    header, blobs = answer(AppContext(), ready, [("me.jpg", portrait)])
    (photo,) = header["photos"]
    (face,) = photo["faces"]
    assert face["label"] in header["labels"] and len(face["probabilities"]) == 5
    assert face["method"] == "gradcam" and len(face["box"]) == 4
    assert Image.open(io.BytesIO(blobs[face["overlay"]])).format == "PNG"
    assert Image.open(io.BytesIO(blobs[photo["photo"]])).size == (512, 512)


def test_a_photo_without_a_face_has_no_faces_and_an_unreadable_one_an_error(ready):
    """Check that a grey photo is answered with no face, and text bytes with an error
    saying why, while both are answered in one request."""
    grey = jpeg_bytes(np.full((200, 300, 3), 120, np.uint8))
    header, _ = answer(AppContext(), ready, [("wall.jpg", grey), ("notes.jpg", b"hello")])
    wall, notes = header["photos"]
    assert wall["faces"] == [] and "error" not in wall
    assert notes["error"]["reason"] == "not_an_image" and "notes.jpg" in notes["error"]["message"]


def test_the_source_prior_reweights_the_answer(ready, portrait):
    """Check that target_prior='source' changes the probabilities and says so."""
    plain, _ = answer(AppContext(), ready, [("a.jpg", portrait)], explain=False)
    shifted, _ = answer(AppContext(), ready, [("a.jpg", portrait)], target_prior="source",
                        explain=False)
    before = plain["photos"][0]["faces"][0]["probabilities"]
    after = shifted["photos"][0]["faces"][0]["probabilities"]
    assert shifted["target_prior"]["name"] == "source" and before != after


def test_answers_use_the_temperature_stored_with_the_run(tiny_home, ready, portrait):
    """Check that once a run has a temperature its answers are the calibrated
    probabilities (same group, softer or sharper as the temperature says) and the header
    names the temperature."""
    from backend.evaluation.calibration import apply_temperature
    from storage import runs

    app = AppContext()
    answers = {}
    for temperature in (1.0, 2.0):
        runs.record_calibration(app.db, ready.run.id, {"temperature": temperature,
                                                       "fitted_on": "val"})
        answers[temperature], _ = answer(app, ready, [("a.jpg", portrait)], explain=False)
    plain, scaled = answers[1.0], answers[2.0]
    before = np.array([plain["photos"][0]["faces"][0]["probabilities"]])
    after = scaled["photos"][0]["faces"][0]
    assert scaled["temperature"] == 2.0
    np.testing.assert_allclose(after["probabilities"], apply_temperature(before, 2.0)[0],
                               atol=2e-4)
    assert after["class"] == plain["photos"][0]["faces"][0]["class"]


def test_answering_writes_nothing_under_home(tiny_home, ready, portrait):
    """Check that no file is created or changed under AGEREC_HOME by answering a photo."""
    home = tiny_home[0]

    def files():
        return {p: p.stat().st_mtime_ns for p in home.rglob("*") if p.is_file()}

    before = files()
    answer(AppContext(), ready, [("me.jpg", portrait)])
    assert files() == before


def test_an_unfinished_run_cannot_be_tried(tiny_home):
    """Check that a run that has not succeeded is refused, naming its status."""
    app = AppContext()
    run = runs.create_run(app.db, tiny_home[1]["dataset"], "train", "half", status="running")
    with pytest.raises(ValueError, match=f"run {run.id} is running"):
        load_run(app, run.id)
