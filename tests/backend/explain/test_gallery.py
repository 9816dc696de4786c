"""Tests of backend/explain/gallery.py."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from backend.explain.gallery import (SUMMARY_COLUMNS, GalleryConfig, analyse_model,
                                     greyscale_copies, select_images, summary_table,
                                     write_gallery)
from backend.params import InvalidParameterError
from tests.backend.explain.quadrant_model import HALF, SIZE, quadrant_model


@pytest.fixture(scope="module")
def model():
    return quadrant_model()


def test_greyscale_copies_have_three_equal_channels():
    """Check that every grey copy repeats one luma value in its three channels."""
    images = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    grey = greyscale_copies(images)
    assert grey.shape == images.shape and grey.dtype == np.uint8
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    assert not np.array_equal(grey, images)


def labels_and_predictions(n=60, seed=0):
    """Three classes, and two models that are each right about 60% of the time."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    a = np.where(rng.random(n) < 0.6, y, (y + 1) % 3)
    b = np.where(rng.random(n) < 0.6, y, (y + 2) % 3)
    return y, {"a": a, "b": b}


def test_selection_is_reproducible_from_its_seed():
    """Check that the same seed picks the same images and another seed other images."""
    y, preds = labels_and_predictions()
    assert select_images(y, preds, 3, seed=5) == select_images(y, preds, 3, seed=5)
    other = select_images(y, preds, 3, seed=6)
    assert select_images(y, preds, 3, seed=5)["index"] != other["index"]


def test_selection_takes_per_class_images_of_each_group_by_the_reference_model():
    """Check that each class gets 2 correct and 2 misclassified images, judged by model 'a'."""
    y, preds = labels_and_predictions()
    sel = select_images(y, preds, 2, seed=0)
    picked = pd.DataFrame({"i": sel["index"], "label": sel["label"], "group": sel["group"]})
    assert picked.groupby(["label", "group"]).size().tolist() == [2] * 6
    right = preds["a"][picked["i"]] == y[picked["i"]]
    assert (right == (picked["group"] == "correct")).all()
    assert (picked["label"] == y[picked["i"]]).all()


def test_selection_prefers_images_all_models_agree_on():
    """Check that agreed images come first: with enough of them, every pick is agreed."""
    y, preds = labels_and_predictions(n=200)
    sel = select_images(y, preds, 2, seed=0)
    assert all(sel["all_agree"])


def test_selection_reports_a_pool_that_runs_short():
    """Check that a class with no misclassified image is reported, not silently padded."""
    y = np.array([0, 0, 0, 1, 1, 1])
    pred = np.array([0, 0, 0, 1, 1, 0])
    sel = select_images(y, {"m": pred}, 2, seed=0)
    assert sel["shortfall"] == {"0/misclassified": 2, "1/misclassified": 1}
    assert len(sel["index"]) == 5


def test_selection_refuses_predictions_of_another_length():
    """Check that a model with predictions for a different test set is refused."""
    with pytest.raises(InvalidParameterError, match="'b'"):
        select_images([0, 1, 1], {"a": [0, 1, 1], "b": [0, 1]}, 1, seed=0)


def test_summary_table_has_exactly_the_dashboards_columns():
    """Check the column names and order of the summary table."""
    rows = [_row("m", "colour", "correct", 0.5), _row("m", "colour", "misclassified", 0.3)]
    assert list(summary_table(rows).columns) == list(SUMMARY_COLUMNS)


def test_summary_table_averages_per_model_colour_and_outcome():
    """Check means, n and the per-(model, colour) accuracy on hand-made rows."""
    rows = [_row("m", "colour", "correct", 0.2), _row("m", "colour", "correct", 0.4),
            _row("m", "colour", "misclassified", 0.9), _row("m", "grey", "misclassified", 0.1)]
    table = summary_table(rows).set_index(["model", "colour", "outcome"])
    assert table.loc[("m", "colour", "correct"), "top10_mass"] == pytest.approx(0.3)
    assert table.loc[("m", "colour", "correct"), "n"] == 2
    assert table.loc[("m", "colour", "misclassified"), "accuracy"] == pytest.approx(2 / 3)
    assert table.loc[("m", "grey", "misclassified"), "accuracy"] == pytest.approx(0.0)


def test_summary_table_counts_flat_maps_behind_a_nan_mean():
    """Check that images with flat maps (NaN scores) are counted in flat_maps."""
    rows = [_row("m", "colour", "correct", float("nan")), _row("m", "colour", "correct", 0.4),
            _row("m", "colour", "misclassified", float("nan"))]
    table = summary_table(rows).set_index(["model", "colour", "outcome"])
    assert table.loc[("m", "colour", "correct"), "flat_maps"] == 1
    assert table.loc[("m", "colour", "correct"), "top10_mass"] == pytest.approx(0.4)
    assert table.loc[("m", "colour", "misclassified"), "flat_maps"] == 1


def _row(model, colour, outcome, value):
    scores = dict.fromkeys(["top10_mass", "entropy", "face_share", "deletion_auc",
                            "insertion_auc", "random_deletion_auc"], value)
    return {"id": 0, "model": model, "colour": colour, "outcome": outcome, **scores}


def quadrant_data():
    """Sixteen 32x32 faces-to-be: 8 with contrast in the top-left quadrant (the model says
    class 0), 8 with contrast only outside it (class 1); two of each carry the other label."""
    rng = np.random.default_rng(1)
    images = np.full((16, SIZE, SIZE, 3), 128, np.uint8)
    noise = rng.integers(0, 256, (16, SIZE, SIZE, 3), dtype=np.uint8)
    inside = np.zeros((SIZE, SIZE), bool)
    inside[:HALF, :HALF] = True
    images[:8][:, inside] = noise[:8][:, inside]
    images[8:][:, ~inside] = noise[8:][:, ~inside]
    y = np.array([0] * 6 + [1] * 2 + [1] * 6 + [0] * 2)
    return images, y


def test_analyse_model_scores_colour_and_grey_copies(model):
    """Check one row per image and colour, with predictions that match the model."""
    images, y = quadrant_data()
    rows, maps = analyse_model(model, images[:4], y[:4], layer="features",
                               cfg=GalleryConfig(steps=5), name="quadrant", ids=[10, 11, 12, 13])
    assert [(r["id"], r["colour"]) for r in rows] == (
        [(i, "colour") for i in range(10, 14)] + [(i, "grey") for i in range(10, 14)])
    assert all(r["pred"] == 0 and r["model"] == "quadrant" for r in rows)
    assert maps["grey"]["pred_maps"].shape == (4, SIZE, SIZE)
    assert np.array_equal(maps["grey"]["images"][..., 0], maps["grey"]["images"][..., 2])


def test_occlusion_scores_a_plain_predict_function_like_gradcam_does(model):
    """Check that with method 'occlusion' a plain function (no Keras model, no layer) gets
    the same rows and score columns as GradCAM, and its class-0 maps lie in the quadrant."""
    from tests.backend.explain.quadrant_model import quadrant_mass

    images, y = quadrant_data()
    predict = lambda batch: np.asarray(model(batch, training=False))  # noqa: E731
    cfg = GalleryConfig(steps=3, method="occlusion", grid=4)
    rows, maps = analyse_model(predict, images[:3], y[:3], layer=None, cfg=cfg, name="fn")
    cam_rows, _ = analyse_model(model, images[:3], y[:3], layer="features",
                                cfg=GalleryConfig(steps=3), name="fn")
    assert [sorted(r) for r in rows] == [sorted(r) for r in cam_rows]
    assert [r["pred"] for r in rows] == [r["pred"] for r in cam_rows]
    assert quadrant_mass(maps["colour"]["pred_maps"]).min() > 0.6


@pytest.mark.slow
def test_gallery_job_is_reproducible_from_its_seed(model, tmp_path):
    """Check that two runs with the same seed choose the same images and write the same
    JSON, scores and heatmap files."""
    images, y = quadrant_data()
    pred = np.array([0] * 8 + [1] * 8)
    models = {"first": (model, "features"), "second": (model, "features")}
    preds = {"first": pred, "second": pred}
    cfg = GalleryConfig(per_class=2, steps=5, seed=3)
    ids = np.arange(100, 116)
    one = write_gallery(tmp_path / "one", models, images, y, preds, cfg=cfg, ids=ids)
    two = write_gallery(tmp_path / "two", models, images, y, preds, cfg=cfg, ids=ids)
    assert one.read_text() == two.read_text()
    assert (one.parent / "scores.csv").read_bytes() == (two.parent / "scores.csv").read_bytes()
    files = sorted(p.relative_to(one.parent) for p in one.parent.rglob("*.png"))
    assert files and all((one.parent / f).read_bytes() == (two.parent / f).read_bytes()
                         for f in files)


def test_gallery_json_lists_every_image_with_files_that_exist(model, tmp_path):
    """Check that gallery.json has an item per (image, model, colour) whose paths exist."""
    images, y = quadrant_data()
    pred = np.array([0] * 8 + [1] * 8)
    path = write_gallery(tmp_path, {"q": (model, "features")}, images, y, {"q": pred},
                         cfg=GalleryConfig(per_class=2, steps=5))
    gallery = json.loads(path.read_text())
    assert len(gallery["items"]) == 8 * 2
    item = next(i for i in gallery["items"] if i["group"] == "misclassified")
    assert item["true"] != item["pred"] and len(item["probs"]) == 2
    for rel in item["files"].values():
        assert (tmp_path / rel).is_file()
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
