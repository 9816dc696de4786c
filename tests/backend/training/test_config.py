"""TrainConfig validation, JSON round trip and the three presets."""
from __future__ import annotations

import json

import pytest

from backend.models.registry import BACKBONES
from backend.params import InvalidParameterError
from backend.training.config import (GREYSCALE_AUG_PROB, PRESETS, TrainConfig, departures,
                                     preset_config, preset_members)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_member_builds_a_config(preset):
    """Check that each member of each preset gets a valid TrainConfig for that backbone."""
    configs = [preset_config(preset, member) for member in preset_members(preset)]
    assert [c.backbone for c in configs] == list(preset_members(preset))


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_smoke_preset_covers_every_backbone(backbone):
    """Check that the smoke preset is tiny (<= 64 px, 1 epoch, random weights) for any backbone."""
    config = preset_config("smoke", backbone)
    assert (config.image_size <= 64, config.epochs, config.weights) == (True, 1, "none")


def test_paper_vgg19_matches_section_3_3():
    """Check the paper's VGG-19 settings: 224 px, 25 epochs, top 8 layers, Adam 1e-4, batch 32."""
    c = preset_config("paper", "vgg19")
    assert (c.image_size, c.epochs, c.schedule, c.trainable_top_layers, c.learning_rate,
            c.batch_size) == (224, 25, "fixed", 8, 1e-4, 32)
    assert (c.plateau_factor, c.plateau_patience, c.min_lr, c.early_stopping_patience) == \
        (0.1, 2, 1e-6, 5)


def test_paper_resnet_is_gradual_unfreezing():
    """Check the paper's ResNet152V2 schedule: 20 frozen epochs, 10-epoch cycles of 10
    layers, stopping after 2 stale cycles."""
    c = preset_config("paper", "resnet152v2")
    assert (c.schedule, c.initial_epochs, c.cycle_epochs, c.unfreeze_step, c.max_stale_cycles) \
        == ("gradual_unfreeze", 20, 10, 10, 2)


@pytest.mark.parametrize("backbone", ["vgg19", "resnet152v2"])
def test_paper_preset_trains_in_float32_without_xla(backbone):
    """Check that the paper's members train in float32 as published, with no XLA."""
    c = preset_config("paper", backbone)
    assert (c.mixed_precision, c.xla) == ("off", "off")


def test_paper_precision_stays_a_switch():
    """Check that mixed precision and XLA can still be turned on for a paper member."""
    c = preset_config("paper", "resnet152v2", mixed_precision="on", xla="auto")
    assert (c.mixed_precision, c.xla) == ("on", "auto")


def test_cpu_preset_fine_tunes_the_image_member_on_cached_lower_blocks():
    """Check that the cpu image member fine-tunes EfficientNet-Lite0's top from block 8 at
    128 px with clean, mirrored and augmented passes and test-time mirroring."""
    c = preset_config("cpu", "efficientnet_lite0")
    assert (c.schedule, c.split_block, c.image_size, c.saliency) == ("fine_tune_top", 8, 128,
                                                                     "none")
    assert (c.mirror_pass, c.tta, c.feature_passes >= 2) == (True, True, True)


def test_cpu_dlib_member_trains_a_head_on_cached_descriptors():
    """Check that the cpu dlib member trains a dense head on frozen descriptors."""
    c = preset_config("cpu", "dlib_face")
    assert (c.schedule, c.saliency) == ("frozen_features", "none")


def test_fine_tune_top_needs_a_backbone_made_of_blocks():
    """Check that fine_tune_top refuses a backbone that cannot be split at a block."""
    with pytest.raises(InvalidParameterError, match="'backbone' parameter of TrainConfig"):
        preset_config("smoke", "vgg19", schedule="fine_tune_top")


@pytest.mark.parametrize("split_block", [0, 16])
def test_split_block_must_leave_blocks_on_both_sides(split_block):
    """Check that split_block outside 1..15 is refused, naming the parameter."""
    with pytest.raises(InvalidParameterError, match="'split_block' parameter"):
        preset_config("smoke", "efficientnet_lite0", schedule="fine_tune_top",
                      split_block=split_block)


def test_dlib_jitter_is_refused_for_an_image_backbone():
    """Check that dlib_jitter=True is refused for an image member."""
    with pytest.raises(InvalidParameterError, match="'dlib_jitter' parameter"):
        preset_config("smoke", "efficientnet_lite0", dlib_jitter=True)


def test_class_weights_is_a_choice():
    """Check that class_weights accepts 'none' and 'balanced' only."""
    assert preset_config("smoke", "dlib_face", class_weights="balanced").class_weights == \
        "balanced"
    with pytest.raises(InvalidParameterError, match="'class_weights' parameter"):
        preset_config("smoke", "dlib_face", class_weights="inverse")


def test_config_round_trips_through_json():
    """Check that to_dict -> JSON -> from_dict gives an equal config (tuples included)."""
    config = preset_config("cpu", "efficientnet_lite0")
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_nested_override_updates_only_given_fields():
    """Check that a dict override of head changes dense_units and keeps the preset's dropout."""
    base = preset_config("cpu", "efficientnet_lite0")
    config = preset_config("cpu", "efficientnet_lite0", head={"dense_units": [64]})
    assert (config.head.dense_units, config.head.dropout) == ((64,), base.head.dropout)


def test_job_words_become_their_fields():
    """Check that a train job's own words (patience, saliency=False, greyscale_aug) set
    early_stopping_patience, saliency 'none' and the greyscale augmentation."""
    config = preset_config("paper", "vgg19", patience=3, saliency=False, greyscale_aug=True)
    assert (config.early_stopping_patience, config.saliency, config.augment.greyscale_prob) == \
        (3, "none", GREYSCALE_AUG_PROB)


def test_job_words_that_keep_the_preset_change_nothing():
    """Check that saliency=True and greyscale_aug=False leave the preset's config as it is."""
    assert preset_config("paper", "vgg19", saliency=True, greyscale_aug=False) == \
        preset_config("paper", "vgg19")


def test_departures_name_each_changed_field_but_not_the_seed():
    """Check that a config's departures from its preset are the fields it changed (a job
    word counted as its field), and that another seed alone is no departure."""
    assert departures(preset_config("paper", "resnet152v2", seed=7), "paper") == ()
    changed = preset_config("paper", "resnet152v2", saliency=False, cycle_lr_decay="compounding")
    assert departures(changed, "paper") == ("cycle_lr_decay", "saliency")


def test_saliency_as_text_is_the_field_itself():
    """Check that saliency='gate' (a TrainConfig value, not a job word) is kept as given."""
    assert preset_config("paper", "vgg19", saliency="gate").saliency == "gate"


@pytest.mark.parametrize("call, param, value", [
    (lambda: preset_config("fast", "vgg19"), "preset", "fast"),
    (lambda: preset_config("cpu", "alexnet"), "backbone", "alexnet"),
    (lambda: preset_config("paper", "dlib_face"), "backbone", "dlib_face"),
    (lambda: preset_config("cpu", "vgg19", epoch=3), "overrides", "epoch"),
    (lambda: preset_members("huge"), "preset", "huge"),
])
def test_bad_names_raise_naming_param_and_value(call, param, value):
    """Check that an unknown preset, backbone or override names the parameter and the value."""
    with pytest.raises(InvalidParameterError, match=f"'{param}'.*'{value}'"):
        call()


def test_frozen_features_refuses_a_saliency_front_end():
    """Check that 'frozen_features' with saliency 'map' raises an error naming 'saliency'."""
    with pytest.raises(InvalidParameterError, match="'saliency'"):
        preset_config("cpu", "efficientnet_lite0", saliency="map")


def test_descriptor_backbone_needs_frozen_features():
    """Check that dlib_face with the 'fixed' schedule raises an error naming 'schedule'."""
    with pytest.raises(InvalidParameterError, match="'schedule'.*'fixed'"):
        preset_config("cpu", "dlib_face", schedule="fixed")
