"""Training: configs and presets, unfreezing schedules, callbacks, the trainer.

Import the submodules directly (`backend.training.trainer`); this package file
stays empty so `backend.training.schedules` can be used without loading TensorFlow.
"""
