"""The TrainConfig a train job's parameters ask for."""
from __future__ import annotations

from worker.jobspecs import validate_params
from worker.stages.train import train_config


def _config(**params):
    return train_config(validate_params("train", {"dataset_id": 1, "backbone": "resnet152v2",
                                                  **params}))


def test_paper_member_trains_in_float32_unless_switched():
    """Check that a paper job is float32 without XLA, and the job switches turn both on."""
    assert (_config().mixed_precision, _config().xla) == ("off", "off")
    switched = _config(mixed_precision="on", xla="on")
    assert (switched.mixed_precision, switched.xla) == ("on", "on")


def test_compounding_decay_is_asked_for_by_name():
    """Check that cycle_lr_decay='compounding' reaches the config; the default is the paper's."""
    assert (_config().cycle_lr_decay, _config(cycle_lr_decay="compounding").cycle_lr_decay) == \
        ("paper", "compounding")
