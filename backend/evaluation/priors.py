"""Prior-shift correction: a model trained on balanced classes, used on faces at their
natural class mix.

A classifier's posterior is proportional to likelihood x training prior. Dividing by
the training prior and multiplying by the deployment prior gives the posterior the
same likelihoods imply under the deployment mix (Saerens et al., 2002), with no
retraining. The deployment prior must come from knowledge of the population (e.g. the
source's class frequencies), never from the test labels being scored.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from backend.params import InvalidParameterError


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
