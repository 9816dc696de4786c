"""Ensembles: averaging, the meta-model's random search, and that it never sees test data."""
from __future__ import annotations

import keras
import numpy as np
import pytest

import backend.ensemble as ensemble
from backend.ensemble import (MetaConfig, average_probs, build_meta_model, ensemble_predict,
                              ensemble_predictor, fit_meta, load_ensemble, out_of_fold_probs,
                              random_search, save_ensemble, saved_out_of_fold)
from backend.params import InvalidParameterError

FAST = MetaConfig(units=16, layers=2, epochs=1)


def _member_probs(n: int, n_classes: int = 3, seed: int = 0) -> list[np.ndarray]:
    """Two members' softmax outputs for n images."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(2, n, n_classes))
    return list((np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)).astype(np.float32))


def test_average_probs_is_the_elementwise_mean():
    """Check that averaging two members gives their per-entry mean."""
    a = np.array([[0.8, 0.2], [0.4, 0.6]])
    b = np.array([[0.6, 0.4], [0.0, 1.0]])
    np.testing.assert_allclose(average_probs([a, b]), [[0.7, 0.3], [0.2, 0.8]])


def test_mismatched_class_counts_raise_a_clear_error():
    """Check that members with 3 and 5 classes raise an error naming the class counts."""
    with pytest.raises(InvalidParameterError, match=r"one class scheme.*\[3, 5\]"):
        average_probs([np.full((2, 3), 1 / 3), np.full((2, 5), 0.2)])


def test_meta_model_halves_its_dense_layers():
    """Check that the meta-model is Dense 512 -> 256 -> 128 -> softmax(5) by default."""
    model = build_meta_model(10, 5, MetaConfig())
    widths = [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert widths == [512, 256, 128, 5]


def test_random_search_runs_n_trials_and_picks_best_cv_accuracy(monkeypatch):
    """Check that random_search scores n_trials configs and returns the best-scoring one."""
    scores = iter([0.5, 0.5, 0.9, 0.9, 0.7, 0.7, 0.6, 0.6])  # two folds per trial
    monkeypatch.setattr(ensemble, "_fold_accuracy", lambda *args: next(scores))
    val = _member_probs(30)
    best, trials = random_search(val, np.arange(30) % 3, n_trials=4, n_folds=2, seed=1)
    assert [t["cv_accuracy"] for t in trials] == [0.5, 0.9, 0.7, 0.6]
    assert (best.units, best.layers, best.dropout, best.learning_rate) == tuple(
        trials[1][k] for k in ("units", "layers", "dropout", "learning_rate"))


def test_meta_model_never_fits_on_test_predictions(monkeypatch, tmp_path):
    """Check that through search, final fit and test prediction, every array a model
    is fit on is made of validation rows only, none of the test rows."""
    val, test = _member_probs(30, seed=0), _member_probs(12, seed=1)
    val_rows = {tuple(r) for r in np.concatenate(val, axis=1).round(6)}
    test_rows = {tuple(r) for r in np.concatenate(test, axis=1).round(6)}
    seen = []
    original_fit = keras.Model.fit

    def spy_fit(self, x=None, *args, **kwargs):
        seen.append(np.asarray(x))
        return original_fit(self, x, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy_fit)
    labels = np.arange(30) % 3
    best, _ = random_search(val, labels, n_trials=2, n_folds=2, base=FAST)
    save_ensemble(tmp_path, members=["a", "b"], n_classes=3, model=fit_meta(val, labels, best),
                  cfg=best)
    assert ensemble_predict(tmp_path, test).shape == (12, 3)
    fitted_rows = {tuple(r) for x in seen for r in x.round(6)}
    assert len(seen) == 2 * 2 + 1  # two trials x two folds, then the final fit
    assert fitted_rows <= val_rows and not fitted_rows & test_rows


def test_saved_meta_ensemble_predicts_like_the_fitted_model(tmp_path):
    """Check that save/load keeps the meta-model: ensemble_predict equals its predictions."""
    val, test = _member_probs(20, seed=0), _member_probs(6, seed=1)
    model = fit_meta(val, np.arange(20) % 3, FAST)
    save_ensemble(tmp_path, members=["a", "b"], n_classes=3, model=model, cfg=FAST)
    expected = model.predict(np.concatenate(test, axis=1), verbose=0)
    np.testing.assert_allclose(ensemble_predict(tmp_path, test), expected, rtol=1e-5)
    assert load_ensemble(tmp_path)[1]["members"] == ["a", "b"]


def test_out_of_fold_probs_score_each_face_with_a_model_fit_without_it(monkeypatch):
    """Check that every validation face's out-of-fold row comes from the one fold fit
    whose training faces exclude it, and rows are probabilities."""
    scored = []  # (the faces a fit learned from, the faces it then scored)
    real_fit = ensemble._fit

    def spy(features, labels, n_classes, cfg, seed):
        model, seen = real_fit(features, labels, n_classes, cfg, seed), features.round(6)
        real_predict = model.predict

        def predict(rows, **kw):
            scored.append(({tuple(r) for r in seen}, {tuple(r) for r in rows.round(6)}))
            return real_predict(rows, **kw)

        model.predict = predict
        return model

    monkeypatch.setattr(ensemble, "_fit", spy)
    val = _member_probs(30)
    held_out = out_of_fold_probs(val, np.arange(30) % 3, FAST, n_folds=3)
    assert held_out.shape == (30, 3) and np.allclose(held_out.sum(axis=1), 1, atol=1e-5)
    # Three fits, each scoring only faces it never learned from, every face once.
    assert len(scored) == 3 and all(not (seen & rows) for seen, rows in scored)
    assert sum(len(rows) for _, rows in scored) == 30


def test_out_of_fold_probs_are_saved_with_a_meta_ensemble(tmp_path):
    """Check that save_ensemble keeps the out-of-fold probabilities and an ensemble saved
    without them has none."""
    val, labels = _member_probs(12), np.arange(12) % 3
    held_out = out_of_fold_probs(val, labels, FAST, n_folds=2)
    save_ensemble(tmp_path / "meta", members=["a", "b"], n_classes=3,
                  model=fit_meta(val, labels, FAST), cfg=FAST, out_of_fold=held_out)
    save_ensemble(tmp_path / "avg", members=["a", "b"], n_classes=3)
    np.testing.assert_allclose(saved_out_of_fold(tmp_path / "meta"), held_out)
    assert saved_out_of_fold(tmp_path / "avg") is None


def test_average_ensemble_round_trip(tmp_path):
    """Check that an ensemble saved without a model predicts the members' average."""
    test = _member_probs(6)
    save_ensemble(tmp_path, members=["a", "b"], n_classes=3)
    np.testing.assert_allclose(ensemble_predict(tmp_path, test), average_probs(test))


def test_ensemble_predict_wants_the_saved_members(tmp_path):
    """Check that giving three members to a two-member ensemble names 'member_probs'."""
    save_ensemble(tmp_path, members=["a", "b"], n_classes=3)
    with pytest.raises(InvalidParameterError, match="'member_probs'"):
        ensemble_predict(tmp_path, _member_probs(4) + [np.full((4, 3), 1 / 3)])


def test_ensemble_predictor_combines_member_functions_like_ensemble_predict(tmp_path):
    """Check that the ensemble as a function of images gives what ensemble_predict gives
    for the members' answers on those images."""
    val, test = _member_probs(20, seed=0), _member_probs(6, seed=1)
    save_ensemble(tmp_path, members=["a", "b"], n_classes=3,
                  model=fit_meta(val, np.arange(20) % 3, FAST), cfg=FAST)
    images = np.zeros((6, 8, 8, 3), np.float32)
    predict = ensemble_predictor(tmp_path, [lambda x: test[0], lambda x: test[1]])
    np.testing.assert_allclose(predict(images), ensemble_predict(tmp_path, test), rtol=1e-5)


def test_ensemble_predictor_wants_one_function_per_member(tmp_path):
    """Check that one function for a two-member ensemble names 'member_fns'."""
    save_ensemble(tmp_path, members=["a", "b"], n_classes=3)
    with pytest.raises(InvalidParameterError, match="'member_fns'"):
        ensemble_predictor(tmp_path, [lambda x: x])
