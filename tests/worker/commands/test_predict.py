"""`agerec predict` on tiny recorded runs: every face, --explain's overlays, and the
try-it service's warm path when one serves."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from storage.settings import Settings
from tests.conftest import wait_for
from tests.worker.commands.test_cli import run_json
from worker.context import AppContext
from worker.interactive import client
from worker.interactive.service import Service

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def photo(tmp_path, portrait):
    path = tmp_path / "photos" / "astronaut.jpg"
    path.parent.mkdir()
    path.write_bytes(portrait)
    return path


def test_explain_writes_each_face_s_overlay_in_out_and_names_it(tiny_home, photo, tmp_path,
                                                               capsys):
    """Check that --explain writes one GradCAM overlay PNG per face into --out, and that
    the JSON names it beside the face's group and probabilities."""
    out = tmp_path / "overlays"
    code, result = run_json(capsys, "predict", "--run", str(tiny_home[1]["ensemble"]),
                            str(photo), "--explain", "--out", str(out))
    (face,) = result["predictions"][0]["faces"]
    assert code == 0 and result["warm_path"] is False
    assert face["overlay"] == str(out / "astronaut-face1-gradcam.png")
    assert Image.open(face["overlay"]).format == "PNG"
    assert result["predictions"][0]["label"] == face["label"]


def test_overlays_are_refused_inside_agerec_home(tiny_home, photo, capsys):
    """Check that --out inside AGEREC_HOME is refused with exit 2: home keeps no photo."""
    code, result = run_json(capsys, "predict", "--run", str(tiny_home[1]["image"]), str(photo),
                            "--explain", "--out", str(tiny_home[0] / "overlays"))
    assert code == 2 and "inside AGEREC_HOME" in result["error"]


def test_a_photo_without_a_face_is_an_error_and_exit_2(tiny_home, tmp_path, capsys):
    """Check that a grey photo gets 'no face found' and, alone, exit code 2."""
    grey = tmp_path / "wall.png"
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(grey)
    code, result = run_json(capsys, "predict", "--run", str(tiny_home[1]["image"]), str(grey))
    assert code == 2 and result["predictions"][0]["error"] == f"no face found in {grey}"


def test_a_running_service_answers_predict_with_the_same_result(tiny_home, photo, capsys):
    """Check that with a try-it service serving, predict goes through it (warm_path) and
    gives the group and probabilities it gives on its own."""
    run_id = str(tiny_home[1]["ensemble"])
    _, alone = run_json(capsys, "predict", "--run", run_id, str(photo))
    service = Service(AppContext())
    thread = threading.Thread(target=service.serve, daemon=True)
    thread.start()
    try:
        wait_for(lambda: client.status(Settings.from_env()) is not None, 30, "the service")
        _, served = run_json(capsys, "predict", "--run", run_id, str(photo))
    finally:
        client.stop_service(Settings.from_env())
        thread.join(10)
    assert served["warm_path"] is True and alone["warm_path"] is False
    assert served["predictions"][0]["label"] == alone["predictions"][0]["label"]
    assert served["predictions"][0]["probabilities"] == pytest.approx(
        alone["predictions"][0]["probabilities"], abs=1e-3)
