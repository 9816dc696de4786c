"""Gradual unfreezing: layer counts per cycle, learning rates, the stopping rule."""
from __future__ import annotations

import pytest

from backend.params import InvalidParameterError
from backend.training.config import preset_config
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


def test_fine_tuning_cycles_run_at_a_tenth_of_the_initial_rate_as_the_paper_says():
    """Check that cycles 1-4 all run at 1e-5 when the initial cycle ran at 1e-4.

    Paper, section 3.3: "Following the initial training cycle, we unfreeze the weights
    of the final 10 layers in the base model, decrease the learning rate by a factor of
    10 compared to our initial training cycle, and train the entire model again for 10
    epochs. We sequentially proceed to unfreeze and train the preceding 10 layers,
    continuing this pattern ..." The factor is against the initial cycle, not the
    previous one, so every fine-tuning cycle gets lr0 / 10.
    """
    lr0 = preset_config("paper", "resnet152v2").learning_rate
    rates = [cycle_learning_rate(lr0, c, preset_config("paper", "resnet152v2").cycle_lr_decay)
             for c in range(5)]
    assert rates == pytest.approx([1e-4, 1e-5, 1e-5, 1e-5, 1e-5])


def test_compounding_decay_is_an_explicit_option():
    """Check that decay='compounding' divides by 10 per cycle (1e-5, 1e-6, 1e-7)."""
    rates = [cycle_learning_rate(1e-4, c, "compounding") for c in range(4)]
    assert rates == pytest.approx([1e-4, 1e-5, 1e-6, 1e-7])


def test_cycle_learning_rate_rejects_an_unknown_decay():
    """Check that decay='linear' raises an error naming 'decay' and the choices."""
    with pytest.raises(InvalidParameterError, match="'decay'.*'compounding'"):
        cycle_learning_rate(1e-4, 1, "linear")


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
