"""Gradual unfreezing as pure functions (paper 3.3, ResNet152V2-based model).

The frozen stage trains only the head; each later cycle unfreezes `step` more base
layers from the top and trains at the frozen stage's learning rate divided by 10
(the paper: "decrease the learning rate by a factor of 10 compared to our initial
training cycle"), until validation accuracy has failed to improve for `max_stale`
cycles in a row. The 'compounding' decay (lr0 / 10**cycle) is kept as a named
option: it is not the paper's, and it reaches the paper's 1e-6 floor by cycle 2.
"""
from __future__ import annotations

from collections.abc import Sequence

from backend.params import check_choice, check_float, check_int

CYCLE_LR_DECAYS = ("paper", "compounding")


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


def cycle_learning_rate(lr0: float, cycle: int, decay: str = "paper") -> float:
    """Learning rate of a cycle: lr0 for the frozen stage (cycle 0), then

    - 'paper': lr0 / 10 for every fine-tuning cycle (1e-5 from 1e-4);
    - 'compounding': lr0 / 10**cycle (1e-5, 1e-6, 1e-7, ...), ours, not the paper's.
    """
    func = "cycle_learning_rate"
    lr0 = check_float(lr0, param="lr0", func=func, low=0.0)
    cycle = check_int(cycle, param="cycle", func=func, low=0)
    check_choice(decay, CYCLE_LR_DECAYS, param="decay", func=func)
    if cycle == 0:
        return lr0
    return lr0 / 10 if decay == "paper" else lr0 / 10 ** cycle


def should_stop(cycle_val_accs: Sequence[float], max_stale: int = 2) -> bool:
    """True once the last `max_stale` cycles all failed to beat the best before them.

    `cycle_val_accs[i]` is the best validation accuracy reached in cycle i (0 = frozen).
    """
    max_stale = check_int(max_stale, param="max_stale", func="should_stop", low=1)
    if len(cycle_val_accs) <= max_stale:
        return False
    best_before = max(cycle_val_accs[:-max_stale])
    return all(acc <= best_before for acc in cycle_val_accs[-max_stale:])
