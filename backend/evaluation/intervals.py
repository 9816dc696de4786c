"""How much a number would move on another sample of faces: seeded, vectorised
percentile-bootstrap intervals, and the tests of whether two models differ.

Every interval resamples the images with replacement `n_resamples` times (1,000 by
default) from one seeded generator and takes the 2.5th and 97.5th percentiles of the
statistic (the percentile bootstrap). Values of many kinds are resampled by index,
rng.integers(0, n, (n_resamples, n)), exactly as `scipy.stats.bootstrap(...,
method='percentile')` draws them. A statistic of a few kinds of face (right or wrong,
and the class) depends only on how many faces of each kind a resample holds, and those
counts are Multinomial(n, observed shares): drawing them directly is the same
bootstrap, at a cost per resample of the number of kinds instead of n.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

N_RESAMPLES = 1000
SEED = 0
LEVEL = 0.95
_CHUNK = 8_000_000  # resampled indices held at once (64 MB of int64)


def resample_indices(n: int, n_resamples: int = N_RESAMPLES, seed: int | None = SEED,
                     rng: np.random.Generator | None = None) -> np.ndarray:
    """(n_resamples, n) indices drawn with replacement, as scipy.stats.bootstrap draws them."""
    rng = rng if rng is not None else np.random.default_rng(seed)
    return rng.integers(0, n, (n_resamples, n))


def percentile_interval(stats: Any, level: float = LEVEL) -> list[float] | None:
    """The central `level` interval of bootstrap statistics (NaNs, from resamples where the
    statistic is undefined, are left out); None when none is defined."""
    stats = np.asarray(stats, dtype=np.float64)
    stats = stats[np.isfinite(stats)]
    if not len(stats):
        return None
    alpha = (1 - level) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    return [float(low), float(high)]


def bootstrap_stats(n: int, statistic: Callable[[np.ndarray], np.ndarray], *,
                    n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """`statistic(indices)` of every resample: it gets a (k, n) block of resampled indices
    and returns k values; blocks keep memory bounded on large sets."""
    per_block = max(1, _CHUNK // max(n, 1))
    out = []
    for start in range(0, n_resamples, per_block):
        k = min(per_block, n_resamples - start)
        out.append(np.asarray(statistic(resample_indices(n, k, rng=rng)), dtype=np.float64))
    return np.concatenate(out) if out else np.zeros(0)


MAX_KINDS = 64  # up to this many distinct values, resample their counts


def resampled_counts(codes: np.ndarray, n_kinds: int, n_resamples: int,
                     rng: np.random.Generator) -> np.ndarray:
    """(n_resamples, n_kinds) counts of each kind of face (codes 0..n_kinds-1) in
    bootstrap resamples of the faces: Multinomial(n, observed shares)."""
    n = len(codes)
    shares = np.bincount(codes, minlength=n_kinds)[:n_kinds] / n
    return rng.multinomial(n, shares, size=n_resamples)


def resampled_means(x: np.ndarray, n_resamples: int,
                    rng: np.random.Generator) -> np.ndarray:
    """The mean of each bootstrap resample of `x`: through the counts of its distinct
    values when there are few (hits 0/1, paired differences -1/0/1), else by index."""
    kinds, codes = np.unique(x, return_inverse=True)
    if len(kinds) <= MAX_KINDS:
        return resampled_counts(codes.reshape(-1), len(kinds), n_resamples, rng) @ kinds / len(x)
    return bootstrap_stats(len(x), lambda idx: x[idx].mean(axis=1), n_resamples=n_resamples,
                           rng=rng)


def mean_interval(values: Any, *, n_resamples: int = N_RESAMPLES, seed: int | None = SEED,
                  level: float = LEVEL) -> list[float] | None:
    """Interval of the mean of `values` (e.g. 1 for a right answer, 0 for a wrong one);
    None without values."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if not len(x):
        return None
    return percentile_interval(resampled_means(x, n_resamples, np.random.default_rng(seed)),
                               level)


def balanced_accuracy_interval(y_true: Any, hits: Any, n_classes: int, *,
                               n_resamples: int = N_RESAMPLES, seed: int | None = SEED,
                               level: float = LEVEL) -> list[float] | None:
    """Interval of the mean per-class recall: each resample's recall of every class it
    holds, averaged over those classes."""
    y = np.asarray(y_true, dtype=np.int64).reshape(-1)
    h = np.asarray(hits, dtype=bool).reshape(-1)
    if not len(y):
        return None
    # A face's kind is its (class, right or wrong): each resample's counts of the kinds
    # give its class counts and hits.
    both = resampled_counts(y * 2 + h, 2 * n_classes, n_resamples,
                            np.random.default_rng(seed)).reshape(-1, n_classes, 2)
    counts, right = both.sum(axis=2), both[:, :, 1]
    recall = np.divide(right, counts, out=np.full(counts.shape, np.nan), where=counts > 0)
    return percentile_interval(np.nanmean(recall, axis=1), level)


def difference_interval(a: Any, b: Any, *, n_resamples: int = N_RESAMPLES,
                        seed: int | None = SEED, level: float = LEVEL) -> list[float] | None:
    """Interval of mean(b) - mean(a) for two independent samples (two groups of faces),
    each resampled on its own."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if not len(a) or not len(b):
        return None
    rng = np.random.default_rng(seed)
    mean_a, mean_b = resampled_means(a, n_resamples, rng), resampled_means(b, n_resamples, rng)
    return percentile_interval(mean_b - mean_a, level)


def paired_difference_interval(a: Any, b: Any, *, n_resamples: int = N_RESAMPLES,
                               seed: int | None = SEED,
                               level: float = LEVEL) -> list[float] | None:
    """Interval of mean(b) - mean(a) where a[i] and b[i] score the same face: both are
    resampled with the same indices, so what the faces share cancels out."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if len(a) != len(b):
        raise ValueError(f"paired samples must be as long as each other ({len(a)} and {len(b)})")
    if not len(a):
        return None
    return percentile_interval(resampled_means(b - a, n_resamples, np.random.default_rng(seed)),
                               level)


def mcnemar_exact(hits_a: Any, hits_b: Any) -> dict[str, Any]:
    """McNemar's exact test of two models on the same faces: of the faces exactly one gets
    right (only_a, only_b), is the split further from even than chance would make it?
    Two-sided p = min(1, 2 P(X <= min(only_a, only_b))), X ~ Binomial(only_a + only_b, 1/2)."""
    from scipy.stats import binom

    a = np.asarray(hits_a, dtype=bool).reshape(-1)
    b = np.asarray(hits_b, dtype=bool).reshape(-1)
    if len(a) != len(b):
        raise ValueError(f"paired samples must be as long as each other ({len(a)} and {len(b)})")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    discordant = only_a + only_b
    p = 1.0 if discordant == 0 else min(1.0, 2 * float(binom.cdf(min(only_a, only_b),
                                                                  discordant, 0.5)))
    return {"only_a": only_a, "only_b": only_b, "p_value": p}


def half_width(interval: list[float] | None) -> float | None:
    """Half the width of an interval: the '± x' shown beside a number."""
    if not interval:
        return None
    return (interval[1] - interval[0]) / 2 if all(map(math.isfinite, interval)) else None
