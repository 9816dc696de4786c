"""Gradual unfreezing as pure functions (paper 3.3, ResNet152V2-based model).

The frozen stage trains only the head; each later cycle unfreezes `step` more base
layers from the top and divides the learning rate by 10, until validation accuracy
has failed to improve for `max_stale` cycles in a row.
"""
from __future__ import annotations

from collections.abc import Sequence

from backend.params import check_float, check_int


def unfreeze_plan(n_base_layers: int, step: int = 10, max_cycles: int | None = None) -> list[int]:
    """Trainable top-layer counts per cycle: [0, step, 2*step, ..., n_base_layers].

    Cycle 0 is the frozen stage; the last count is clipped to `n_base_layers` so the
    final cycle trains the whole base. `max_cycles` caps the unfreezing cycles after
    the frozen stage (None: until every base layer is trainable).
    """
    func = "unfreeze_plan"
    n_base_layers = check_int(n_base_layers, param="n_base_layers", func=func, low=0)
    step = check_int(step, param="step", func=func, low=1)
    if max_cycles is not None:
        max_cycles = check_int(max_cycles, param="max_cycles", func=func, low=0)
    # Counts grow by `step` and the last one always reaches the full base.
    counts = list(range(0, n_base_layers, step)) + [n_base_layers]
    return counts if max_cycles is None else counts[: max_cycles + 1]


def cycle_learning_rate(lr0: float, cycle: int) -> float:
    """Learning rate of a cycle: lr0 for the frozen stage, divided by 10 per cycle."""
    lr0 = check_float(lr0, param="lr0", func="cycle_learning_rate", low=0.0)
    cycle = check_int(cycle, param="cycle", func="cycle_learning_rate", low=0)
    return lr0 / 10 ** cycle


def should_stop(cycle_val_accs: Sequence[float], max_stale: int = 2) -> bool:
    """True once the last `max_stale` cycles all failed to beat the best before them.

    `cycle_val_accs[i]` is the best validation accuracy reached in cycle i (0 = frozen).
    """
    max_stale = check_int(max_stale, param="max_stale", func="should_stop", low=1)
    if len(cycle_val_accs) <= max_stale:
        return False
    best_before = max(cycle_val_accs[:-max_stale])
    return all(acc <= best_before for acc in cycle_val_accs[-max_stale:])
