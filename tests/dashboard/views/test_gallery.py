"""The Explanations page (GradCAM and occlusion galleries)."""
from __future__ import annotations

import logging
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import DASHBOARD, captions_of_images, run_page


def page(**query) -> AppTest:
    """The gallery page opened at an address with these query parameters."""
    at = AppTest.from_file(str(DASHBOARD / "views" / "gallery.py"), default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = str(value)
    return at.run()


def members_gallery(seeded) -> AppTest:
    """The page on the members' GradCAM gallery (the ensemble's is newer)."""
    return page(run=seeded["runs"][0])


def test_gallery_page_renders(seeded):
    """Check that the seeded gallery renders without an exception."""
    at = run_page("gallery.py")
    assert not at.exception
    assert at.selectbox(key="gallery-pick").value is not None


def test_each_gallery_is_listed_once_named_by_method_and_model(seeded):
    """Check that the picker lists the two galleries once each, by method and model."""
    labels = run_page("gallery.py").selectbox(key="gallery-pick").options
    assert len(labels) == 2
    assert labels[0].startswith(f"Occlusion of ensemble#{seeded['runs'][2]}")
    assert labels[1].startswith(f"GradCAM of vgg19#{seeded['runs'][0]}, resnet152v2#")


def test_the_address_opens_the_gallery_of_a_run(seeded):
    """Check that ?run=<member> opens the gallery that explains that member."""
    captions = captions_of_images(members_gallery(seeded))
    assert {c.split(" · ")[0] for c in captions[:8]} == {"vgg19#1", "resnet152v2#2"}


def test_switching_gallery_keeps_the_model_filter_valid(seeded):
    """Check that after switching from the ensemble's gallery to the members' the model
    filter names the members' models and overlays are shown, not '0 overlays'."""
    from dashboard import data

    at = run_page("gallery.py")
    box = at.selectbox(key="gallery-pick")
    other = next(g["id"] for g in data.galleries(data.key()) if g["id"] != box.value)
    box.set_value(other).run()
    models = next(m for m in at.multiselect if m.key.startswith("gallery-models"))
    assert set(models.value) == {"vgg19#1", "resnet152v2#2"}
    assert not any(c.value.startswith("0 overlays") for c in at.caption)


def test_outcome_filter_keeps_only_misclassified(seeded):
    """Check that the misclassified filter leaves only faces whose groups differ."""
    at = members_gallery(seeded)
    at.segmented_control(key="gallery-outcome").set_value("misclassified").run()
    grid = [c for c in captions_of_images(at)][:4]
    assert len(grid) == 4 and all("true 20-39 → 40-59" in c or "true 40-59 → 20-39" in c
                                  for c in grid)


def test_one_face_across_models_side_by_side(seeded):
    """Check that ?face= opens one face, shown once per model and colour with its scores."""
    at = page(run=seeded["runs"][0], face=1)
    across = captions_of_images(at)[-4:]
    assert sorted(c.split(" · ")[0] for c in across) == ["resnet152v2#2", "resnet152v2#2",
                                                         "vgg19#1", "vgg19#1"]


def test_scores_table_is_shown(seeded):
    """Check that the explainability scores table is shown beside the overlays."""
    at = run_page("gallery.py")
    assert {"top10_mass", "deletion_auc", "insertion_auc"} <= set(at.dataframe[0].value.columns)


def test_missing_gallery_says_how_to_make_one(empty_home):
    """Check that without a gallery the page says that a gradcam job, GradCAM or
    occlusion, makes one."""
    text = run_page("gallery.py").info[0].value
    assert "No explanation yet" in text and "gradcam" in text and "occlusion" in text


def test_a_newer_smoke_gallery_does_not_become_the_default(seeded):
    """Check that after a smoke pipeline's gallery the page still opens on the gallery of
    the real ensemble."""
    from tests.dashboard.seed import seed_smoke_ensemble

    seed_smoke_ensemble(seeded["gallery"].parents[1])
    box = run_page("gallery.py").selectbox(key="gallery-pick")
    assert box.options[box.index].startswith(f"Occlusion of ensemble#{seeded['runs'][2]}")


def truncate_overlays(gallery) -> list[str]:
    """Cut every overlay PNG of the seeded galleries (the folders beside `gallery`) in
    half; their names."""
    names = []
    for path in sorted(gallery.parent.rglob("*_pred_overlay.png")):
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
        names.append(path.name)
    return names


@pytest.mark.parametrize("mode", ["writable", "read-only"])
def test_truncated_overlays_show_placeholders_not_a_crash(seeded, monkeypatch, caplog, mode):
    """Check that a gallery whose overlay PNGs are truncated renders without an exception,
    in either mode: a placeholder naming each file instead of the image, and the problem
    logged."""
    monkeypatch.setenv("AGEREC_READ_ONLY", "1" if mode == "read-only" else "0")
    names = truncate_overlays(seeded["gallery"])
    with caplog.at_level(logging.WARNING, logger="dashboard.data"):
        at = run_page("gallery.py")
    assert not at.exception and not at.get("image")
    placeholders = [c.value for c in at.caption if "cannot be shown" in c.value]
    shown = {re.search(r"\(image (\S+) cannot be shown\)", c).group(1) for c in placeholders}
    assert placeholders and shown <= set(names)
    assert "is not a usable image" in caplog.text
