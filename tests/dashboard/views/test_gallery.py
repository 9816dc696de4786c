"""The GradCAM gallery page."""
from __future__ import annotations

from tests.dashboard.conftest import captions_of_images, run_page


def test_gallery_page_renders(seeded):
    """Check that the seeded gallery renders without an exception."""
    at = run_page("gallery.py")
    assert not at.exception
    assert at.selectbox(key="gallery-pick").value is not None


def test_grid_shows_colour_overlays_of_every_model(seeded):
    """Check that by default the grid shows the colour overlays of both models."""
    captions = captions_of_images(run_page("gallery.py"))
    grid = captions[:8]
    assert {c.split(" · ")[0] for c in grid} == {"vgg19#1", "resnet152v2#2"}


def test_outcome_filter_keeps_only_misclassified(seeded):
    """Check that the misclassified filter leaves only faces whose groups differ."""
    at = run_page("gallery.py")
    at.segmented_control(key="gallery-outcome").set_value("misclassified").run()
    grid = [c for c in captions_of_images(at)][:4]
    assert len(grid) == 4 and all("true 20-39 → 40-59" in c or "true 40-59 → 20-39" in c
                                  for c in grid)


def test_one_face_across_models_side_by_side(seeded):
    """Check that one face is shown once per model and colour with its scores."""
    at = run_page("gallery.py")
    at.selectbox(key="gallery-face").set_value("1").run()
    across = captions_of_images(at)[-4:]
    assert sorted(c.split(" · ")[0] for c in across) == ["resnet152v2#2", "resnet152v2#2",
                                                         "vgg19#1", "vgg19#1"]


def test_scores_table_is_shown(seeded):
    """Check that the explainability scores table is shown beside the overlays."""
    at = run_page("gallery.py")
    assert {"top10_mass", "deletion_auc", "insertion_auc"} <= set(at.dataframe[0].value.columns)


def test_missing_gallery_says_how_to_make_one(empty_home):
    """Check that without a gallery the page says that a gradcam job makes one."""
    text = run_page("gallery.py").info[0].value
    assert "No GradCAM gallery yet" in text and "gradcam" in text
