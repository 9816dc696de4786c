"""Gradual unfreezing: layer counts per cycle, learning rates, the stopping rule."""
from __future__ import annotations

import pytest

from backend.params import InvalidParameterError
from backend.training.schedules import cycle_learning_rate, should_stop, unfreeze_plan


def test_unfreeze_plan_steps_to_the_whole_base():
    """Check that counts grow by the step from 0 and the last cycle opens every layer."""
    assert unfreeze_plan(25, step=10) == [0, 10, 20, 25]


def test_unfreeze_plan_max_cycles_caps_cycles_after_frozen_stage():
    """Check that max_cycles=2 keeps the frozen stage plus two unfreezing cycles."""
    assert unfreeze_plan(100, step=10, max_cycles=2) == [0, 10, 20]


def test_unfreeze_plan_rejects_zero_step():
    """Check that step=0 raises an error naming 'step'."""
    with pytest.raises(InvalidParameterError, match="'step'"):
        unfreeze_plan(10, step=0)


def test_cycle_learning_rate_divides_by_ten_per_cycle():
    """Check that cycle 0 keeps lr0 and cycle 2 uses lr0 / 100."""
    assert cycle_learning_rate(1e-4, 0) == 1e-4
    assert cycle_learning_rate(1e-4, 2) == pytest.approx(1e-6)


@pytest.mark.parametrize("accs, stop", [
    ([0.50, 0.60, 0.55], False),        # one stale cycle only
    ([0.50, 0.60, 0.55, 0.60], True),   # two stale cycles (a tie is no gain)
    ([0.50, 0.60, 0.55, 0.61], False),  # the second cycle beat the best
])
def test_should_stop_after_two_stale_cycles(accs, stop):
    """Check that training stops once two cycles in a row fail to beat the earlier best."""
    assert should_stop(accs, max_stale=2) is stop


def test_trainable_counts_of_vgg19_follow_the_plan():
    """Check that set_base_trainable on a real VGG19 (32 px, random weights) opens
    exactly the planned number of top base layers in each cycle."""
    from backend.models.build import base_layers, build_model, count_trainable_base_layers
    from backend.models.build import set_base_trainable

    model = build_model("vgg19", 3, 32, weights="none", saliency="none")
    plan = unfreeze_plan(len(base_layers(model)), step=10)
    counts = []
    for n_top in plan:
        set_base_trainable(model, n_top)
        counts.append(count_trainable_base_layers(model))
    assert counts == plan == [0, 10, 20, len(base_layers(model))]
