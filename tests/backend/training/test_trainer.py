"""The trainer on a 40-image synthetic dataset (brightness gives the class away).

The stage/callback/resume tests use a tiny stand-in backbone (conftest.tiny_backbone):
what they check does not depend on the backbone, and real ones take minutes to
trace on 2 CPU cores. One test runs a real backbone end to end.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from backend.training.callbacks import ResumeState, TrainingCancelled
from backend.training.config import preset_config
from backend.training.run_folder import load_run_model, predict_probs
from backend.training.trainer import train


def _tiny(**overrides):
    """Smoke config for the stand-in backbone (any image backbone name will do)."""
    values = dict(learning_rate=1e-2, batch_size=8, trainable_top_layers=None)
    return preset_config("smoke", "vgg19", **{**values, **overrides})


def test_smoke_run_on_real_backbone_lowers_loss_and_writes_files(prepared, tmp_path):
    """Check that a smoke run (real VGG19 features at 32 px, dense head) lowers the training
    loss and writes config, scheme, history, state and best weights."""
    config = preset_config("smoke", "vgg19", schedule="frozen_features", epochs=8,
                           learning_rate=1e-2, early_stopping_patience=8)
    result = train(config, prepared, tmp_path / "run")
    losses = [row["loss"] for row in result.history]
    assert losses[-1] < losses[0]
    written = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"config.json", "scheme.json", "history.json", "state.json",
            "best.weights.h5"} <= written


def test_frozen_features_are_cached(prepared, tmp_path):
    """Check that a second run with the same cache_dir reuses the feature files unchanged."""
    config = preset_config("smoke", "vgg19", schedule="frozen_features", feature_passes=2)
    train(config, prepared, tmp_path / "a", cache_dir=tmp_path / "cache")
    files = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache" / "features").iterdir()}
    train(config, prepared, tmp_path / "b", cache_dir=tmp_path / "cache")
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache" / "features").iterdir()}
    assert len(files) == 3 and after == files  # train pass 0, train pass 1, val


def test_fixed_run_records_history_and_best_epoch(prepared, tmp_path, tiny_backbone):
    """Check that a 3-epoch fixed run records one history row per epoch and names the
    epoch with the lowest validation loss as best."""
    result = train(_tiny(epochs=3, early_stopping_patience=5), prepared, tmp_path / "run")
    val_losses = [row["val_loss"] for row in result.history]
    assert [row["epoch"] for row in result.history] == [0, 1, 2]
    assert result.best_epoch == int(np.argmin(val_losses))
    assert result.val_metrics["val_loss"] == min(val_losses)


def test_gradual_unfreeze_runs_every_cycle_at_a_tenth_of_lr(prepared, tmp_path, tiny_backbone):
    """Check that gradual unfreezing runs the frozen stage at lr, then each cycle at lr / 10."""
    config = _tiny(schedule="gradual_unfreeze", initial_epochs=1, cycle_epochs=1,
                   unfreeze_step=1, max_cycles=2, max_stale_cycles=5, learning_rate=1e-2)
    result = train(config, prepared, tmp_path / "run")
    stages = [(row["stage"], row["learning_rate"]) for row in result.history]
    assert [s for s, _ in stages] == ["frozen", "cycle_1", "cycle_2"]
    np.testing.assert_allclose([lr for _, lr in stages], [1e-2, 1e-3, 1e-3])


def test_progress_is_called_every_batch(prepared, tmp_path, tiny_backbone):
    """Check that progress gets one call per training batch (24 images / 8) plus the epoch end."""
    calls = []
    train(_tiny(epochs=1), prepared, tmp_path / "run", progress=lambda **kw: calls.append(kw))
    assert [c["step"] for c in calls] == [1, 2, 3, 3]
    assert calls[-1]["stage"] == "fine_tune" and "val_loss" in calls[-1]["metrics"]


def test_cancel_stops_within_the_epoch_and_leaves_a_checkpoint(prepared, tmp_path, tiny_backbone):
    """Check that cancel() turning True after 2 batches raises TrainingCancelled in epoch 0,
    with no epoch recorded and last.keras + state.json ready to resume."""
    polls = []

    def cancel():
        polls.append(1)
        return len(polls) >= 2

    with pytest.raises(TrainingCancelled):
        train(_tiny(epochs=3), prepared, tmp_path / "run", cancel=cancel)
    state = ResumeState.load(tmp_path / "run")
    assert len(polls) == 2
    assert (state.epoch, state.weights, state.done) == (0, "last", False)
    assert (tmp_path / "run" / "last.keras").is_file()


def test_resume_continues_from_the_saved_epoch(prepared, tmp_path, tiny_backbone):
    """Check that a run cancelled in epoch 1 resumes at epoch 1 and keeps epoch 0's row."""
    seen = {"epoch": 0}
    config = _tiny(epochs=3, early_stopping_patience=5)
    with pytest.raises(TrainingCancelled):
        train(config, prepared, tmp_path / "run",
              progress=lambda **kw: seen.update(epoch=kw["epoch"]),
              cancel=lambda: seen["epoch"] >= 1)
    first_row = json.loads((tmp_path / "run" / "history.json").read_text())
    epochs_run = []
    result = train(config, prepared, tmp_path / "run", resume=True,
                   progress=lambda **kw: epochs_run.append(kw["epoch"]))
    assert len(first_row) == 1 and result.history[0] == first_row[0]
    assert sorted(set(epochs_run)) == [1, 2]
    assert [row["epoch"] for row in result.history] == [0, 1, 2]


def test_resume_refuses_a_different_config(prepared, tmp_path, tiny_backbone):
    """Check that resuming with changed settings raises an error naming 'config'."""
    from backend.params import InvalidParameterError

    train(_tiny(epochs=1), prepared, tmp_path / "run")
    with pytest.raises(InvalidParameterError, match="'config'"):
        train(_tiny(epochs=2), prepared, tmp_path / "run", resume=True)


def test_predict_probs_rebuilds_the_trained_model(prepared, tmp_path, tiny_backbone):
    """Check that predict_probs gives (N, C) rows summing to 1, equal to the reloaded
    model's own predictions, and different ones for greyscale copies."""
    train(_tiny(epochs=2), prepared, tmp_path / "run")
    images, _, _ = prepared.subset("test")
    probs = predict_probs(tmp_path / "run", images)
    direct = load_run_model(tmp_path / "run").predict(images.astype("float32") / 255, verbose=0)
    grey = predict_probs(tmp_path / "run", images, greyscale=True)
    assert probs.shape == (8, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(probs, direct, rtol=1e-4, atol=1e-6)
    assert not np.allclose(grey, probs)


def test_dlib_member_trains_on_cached_descriptors(prepared, tmp_path):
    """Check that a dlib_face smoke run caches one descriptor per crop and that
    predict_probs computes descriptors from crops into (N, C) probabilities."""
    pytest.importorskip("dlib")
    train(preset_config("smoke", "dlib_face", epochs=2), prepared, tmp_path / "run",
          cache_dir=tmp_path / "cache")
    cached = list((tmp_path / "cache" / "descriptors").rglob("*.npy"))
    images, _, _ = prepared.subset("test")
    probs = predict_probs(tmp_path / "run", images)
    assert len(cached) == 32  # 24 train + 8 val crops
    assert probs.shape == (8, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_tta_averages_each_image_and_its_mirror(prepared, tmp_path, tiny_backbone):
    """Check that predict_probs with tta is the mean of the probabilities of the crops
    and of their left-right mirrors."""
    train(_tiny(epochs=1), prepared, tmp_path / "run")
    images, _, _ = prepared.subset("test")
    mirrored = np.ascontiguousarray(images[:, :, ::-1])
    expected = (predict_probs(tmp_path / "run", images, tta=False)
                + predict_probs(tmp_path / "run", mirrored, tta=False)) / 2
    np.testing.assert_allclose(predict_probs(tmp_path / "run", images, tta=True), expected,
                               rtol=1e-5, atol=1e-6)


def test_balanced_class_weights_reach_the_fit(prepared, tmp_path, tiny_backbone, monkeypatch):
    """Check that class_weights='balanced' hands fit one weight per class of the train split."""
    import keras

    seen = {}
    fit = keras.Model.fit

    def spy(self, *args, **kwargs):
        seen["class_weight"] = kwargs.get("class_weight")
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    train(_tiny(epochs=1, class_weights="balanced"), prepared, tmp_path / "run")
    counts = np.bincount(prepared.subset("train")[1], minlength=3)
    expected = {c: counts.sum() / (3 * counts[c]) for c in range(3)}
    assert seen["class_weight"] == pytest.approx(expected)
