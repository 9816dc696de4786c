"""Prior-shift correction: a model trained on balanced classes, used on faces at their
natural class mix.

A classifier's posterior is proportional to likelihood x training prior. Dividing by
the training prior and multiplying by the deployment prior gives the posterior the
same likelihoods imply under the deployment mix (Saerens et al., 2002), with no
retraining. The deployment prior must come from knowledge of the population (e.g. the
source's class frequencies), never from the test labels being scored.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.params import Constraint, InvalidParameterError

PRIOR_NAMES = ("none", "source")  # the model as trained; the source's class mix before balancing
TARGET_PRIOR_ALLOWED = ("'none', 'source', or comma-separated non-negative weights with a "
                        "positive sum, one per class (e.g. '0.2,0.4,0.2,0.15,0.05')")
_MAX_NAME = 48  # longer weight lists are named by a digest, so a scope stays short


def prior_shift(probs: Any, train_prior: Any, target_prior: Any) -> np.ndarray:
    """Class probabilities (N, C) re-weighted from `train_prior` to `target_prior`.

    Both priors are C non-negative weights (normalised here; counts work); a class
    with no training weight is refused, since its posterior cannot be re-weighted.
    Rows are renormalised to sum to 1.
    """
    func = "prior_shift"
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise InvalidParameterError("probs", func, "an (N, C) array", p.shape)
    train = _prior(train_prior, p.shape[1], "train_prior", func)
    target = _prior(target_prior, p.shape[1], "target_prior", func)
    if (train == 0).any():
        raise InvalidParameterError("train_prior", func, "a positive weight for every class",
                                    train_prior)
    # Swap the training prior inside each posterior for the target one.
    weighted = p * (target / train)
    totals = weighted.sum(axis=1, keepdims=True)
    return (weighted / np.where(totals > 0, totals, 1.0)).astype(np.float32)


def _prior(values: Any, n_classes: int, param: str, func: str) -> np.ndarray:
    """`values` as a normalised prior over n_classes classes."""
    prior = np.asarray(values, dtype=np.float64).reshape(-1)
    if prior.shape != (n_classes,) or (prior < 0).any() or not np.isfinite(prior).all() \
            or prior.sum() <= 0:
        raise InvalidParameterError(param, func, f"{n_classes} non-negative finite weights "
                                    "with a positive sum", values)
    return prior / prior.sum()


def check_target_prior(value: Any, *, param: str = "target_prior",
                       func: str = "evaluate") -> str | list[float]:
    """'none', 'source', or the weights of a comma string or list, normalised to sum to 1.

    The number of weights is checked against a run's scheme later, by `target_prior`.
    """
    if isinstance(value, str) and value.strip() in PRIOR_NAMES:
        return value.strip()
    items = value.split(",") if isinstance(value, str) else value
    try:
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
            raise ValueError
        # str() first, so True or None are refused rather than read as 1 or crash.
        weights = [float(str(item).strip()) for item in items]
    except ValueError:
        raise InvalidParameterError(param, func, TARGET_PRIOR_ALLOWED, value) from None
    # Every scheme has at least two classes; one weight is a typo, not a prior.
    if len(weights) < 2 or not all(math.isfinite(w) and w >= 0 for w in weights) \
            or sum(weights) <= 0:
        raise InvalidParameterError(param, func, TARGET_PRIOR_ALLOWED, value)
    total = sum(weights)
    return [w / total for w in weights]


@dataclass(frozen=True)
class TargetPriorChoice(Constraint):
    """A job parameter's constraint: 'none', 'source' or weights (check_target_prior)."""

    def check(self, value: Any, *, param: str, func: str) -> str | list[float]:
        return check_target_prior(value, param=param, func=func)


@dataclass(frozen=True)
class TargetPrior:
    """The class mix predictions are corrected to, and the one the model learned under.

    `weights` is None for 'none' (the model as trained): probabilities pass unchanged.
    """

    name: str  # 'none', 'source', or the weights written out (a digest when long)
    weights: tuple[float, ...] | None = None  # normalised target prior, one per class
    train_weights: tuple[float, ...] | None = None  # normalised training prior

    def apply(self, probs: Any) -> np.ndarray:
        """`probs` re-weighted to this prior (unchanged for 'none')."""
        if self.weights is None:
            return np.asarray(probs, dtype=np.float32)
        return prior_shift(probs, self.train_weights, self.weights)

    def scope(self, base: str) -> str:
        """The metrics scope of an evaluation under this prior: 'test', 'test+prior:source'."""
        return base if self.weights is None else f"{base}+prior:{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name,
                "weights": None if self.weights is None else list(self.weights),
                "train_weights": None if self.train_weights is None else list(self.train_weights)}


AS_TRAINED = TargetPrior("none")


def target_prior(target: Any, train_counts: Any, source_counts: Any = None, *,
                 labels: Sequence[str] | None = None, func: str = "evaluate") -> TargetPrior:
    """The TargetPrior for a checked target ('none', 'source' or weights) of a run whose
    training split had `train_counts` per class; 'source' needs `source_counts`."""
    target = check_target_prior(target, func=func)
    if target == "none":
        return AS_TRAINED
    n_classes = len(train_counts)
    train = _prior(train_counts, n_classes, "train_prior", func)
    if (train == 0).any():
        raise InvalidParameterError("train_prior", func, "a positive count for every class "
                                    "(a class the train split lacks cannot be re-weighted)",
                                    list(train_counts))
    if target == "source":
        if source_counts is None:
            raise ValueError("the 'source' target prior needs the source's class counts")
        weights, name = _prior(source_counts, n_classes, "source_counts", func), "source"
    else:
        if len(target) != n_classes:
            shown = f" ({', '.join(labels)})" if labels else ""
            raise InvalidParameterError(
                "target_prior", func, f"'none', 'source', or {n_classes} weights, one per "
                f"class of the run's scheme{shown}",
                f"{len(target)} weights ({','.join(f'{w:.4g}' for w in target)})")
        weights = np.asarray(target, dtype=np.float64)
        name = ",".join(f"{w:.3g}" for w in weights)
        if len(name) > _MAX_NAME:
            name = "weights-" + hashlib.sha1(name.encode()).hexdigest()[:8]
    return TargetPrior(name, tuple(round(float(w), 6) for w in weights),
                       tuple(round(float(w), 6) for w in train))


def mix_accuracy(y_true: Any, y_pred: Any, weights: Any, tolerance: int = 0
                 ) -> tuple[float | None, list[float] | None]:
    """Accuracy expected on a population whose class mix is `weights`, and its 95% interval.

    Each class's recall (hit within `tolerance` classes) is measured on its own images and
    weighted by the class's share of the population: sum_c w_c * recall_c. A class with no
    images is left out and the weights of the others renormalised. The interval is the
    normal approximation, with variance sum_c w_c^2 r_c (1 - r_c) / n_c.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    w = np.asarray(weights, dtype=np.float64)
    n_c = np.bincount(y_true, minlength=len(w))[: len(w)]
    present = (n_c > 0) & (w > 0)
    if not present.any():
        return None, None
    hits = np.bincount(y_true[np.abs(y_true - y_pred) <= tolerance], minlength=len(w))[: len(w)]
    recall = np.divide(hits, n_c, out=np.zeros(len(w)), where=n_c > 0)
    share = np.where(present, w, 0.0) / w[present].sum()
    value = float((share * recall).sum())
    variance = float((share[present] ** 2 * recall[present] * (1 - recall[present])
                      / n_c[present]).sum())
    half = 1.96 * math.sqrt(variance)
    return value, [max(0.0, value - half), min(1.0, value + half)]


def evaluate_under_prior(y_true: Any, probs: Any, n_classes: int, prior: TargetPrior, *,
                         genders: Any = None, grey_probs: Any = None,
                         temperature: float = 1.0, groups: Any = None
                         ) -> tuple[dict[str, Any], np.ndarray]:
    """evaluate_probs of the probabilities corrected to `prior` (colour and grey), and the
    corrected probabilities.

    Under a target prior the metrics also hold `target_prior` and the accuracies expected
    on a population with its class mix (`mix_accuracy`), corrected (`population_*`) and
    as trained (`as_trained_population_*`): the balanced test split has the wrong mix to
    show the correction's effect by plain accuracy. `temperature` (the run's) is applied
    to the corrected probabilities for the calibration after scaling.
    """
    from backend.evaluation.evaluate import evaluate_probs

    fixed = prior.apply(probs)
    grey = None if grey_probs is None else prior.apply(grey_probs)
    metrics = evaluate_probs(y_true, fixed, n_classes, genders=genders, grey_probs=grey,
                             temperature=temperature, groups=groups)
    if prior.weights is None:
        return metrics, fixed
    metrics["target_prior"] = prior.to_dict()
    as_trained = np.asarray(probs).argmax(axis=1)
    for prefix, y_pred in (("population", fixed.argmax(axis=1)),
                           ("as_trained_population", as_trained)):
        accuracy, interval = mix_accuracy(y_true, y_pred, prior.weights)
        metrics[f"{prefix}_accuracy"] = accuracy
        metrics[f"{prefix}_accuracy_ci95"] = interval
        metrics[f"{prefix}_one_off_accuracy"] = mix_accuracy(y_true, y_pred, prior.weights,
                                                             tolerance=1)[0]
    return metrics, fixed
