"""A natural-distribution sample: faces at the source's real class frequencies.

Balancing leaves the rare age groups over-represented in the test split; a sample of
the faces no model trained on (the test split plus the faces balancing left out), drawn
at the source's class mix, measures accuracy as a population would see it. Preprocessing
reserves it (`keep_all_faces`) before handing the other left-out faces to training.
"""
from __future__ import annotations

import numpy as np


def natural_sample(labels: np.ndarray, frequencies: np.ndarray, seed: int = 0) -> np.ndarray:
    """Indices into `labels` whose class mix matches `frequencies`, as many as possible.

    The largest n with n * f_c <= available_c for every class sets the size; each class
    then contributes round(n * f_c) items, drawn with the seed.
    """
    labels = np.asarray(labels)
    freqs = np.asarray(frequencies, dtype=np.float64)
    freqs = freqs / freqs.sum()
    available = np.bincount(labels, minlength=len(freqs))[: len(freqs)]
    # The scarcest class (relative to its real share) limits the total size.
    present = freqs > 0
    # (a hair of slack so 10 / 0.1 is 100, not 99.999...)
    n = int(np.floor(np.min(available[present] / freqs[present]) + 1e-9))
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.flatnonzero(present):
        pool = np.flatnonzero(labels == c)
        take = min(len(pool), int(round(n * freqs[c])))
        picked.append(rng.choice(pool, size=take, replace=False))
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def reserve_natural(labels: np.ndarray, test_rows: np.ndarray, unused_rows: np.ndarray,
                    n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(natural set, extra faces): indices into `labels` (every usable face of the source).

    The natural set is the sample of the faces no model trains on (the test split's,
    then the unused ones, in that order) at the class mix of all `labels`, drawn as the
    benchmark draws it; the extra faces are the unused ones outside it, which training
    may then use.
    """
    labels = np.asarray(labels, np.int64)
    pool = np.concatenate([np.asarray(test_rows, np.int64), np.asarray(unused_rows, np.int64)])
    counts = np.bincount(labels, minlength=n_classes)
    natural = pool[natural_sample(labels[pool], counts, seed)]
    return natural, np.setdiff1d(unused_rows, natural).astype(np.int64)
