"""The training config of one member model, and the three presets.

`TrainConfig` is saved as config.json beside every run, so any result can be
rebuilt from its folder. Presets:

- `paper`: section 3.3 exactly, at 224 px (vgg19 and resnet152v2 only).
- `cpu`: the best accuracy we expect within 45 minutes on 2 CPU cores for ~9k
  UTKFace crops: EfficientNet-Lite0's top blocks fine-tuned on its cached lower
  blocks' output, and dlib descriptors under a dense head.
- `smoke`: seconds, for tests: tiny images, random weights, one epoch.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from backend.data.augment_config import AugmentConfig
from backend.models.head import HeadConfig
from backend.models.registry import BACKBONES, get_backbone
from backend.models.saliency import SaliencyConfig, check_saliency_size
from backend.params import (InvalidParameterError, check_bool, check_choice, check_float,
                            check_int)
from backend.training.schedules import CYCLE_LR_DECAYS

SCHEDULES = ("fixed", "gradual_unfreeze", "frozen_features", "fine_tune_top")
CLASS_WEIGHTS = ("none", "balanced")
SALIENCY = ("map", "gate", "none")
SWITCHES = ("auto", "on", "off")  # 'auto' = on only when a GPU is present
PRESETS = ("paper", "cpu", "smoke")
PRESET_MEMBERS = {
    "paper": ("vgg19", "resnet152v2"),
    "cpu": ("efficientnet_lite0", "dlib_face"),
    # Smoke runs check the cpu pipeline end to end, in seconds.
    "smoke": ("efficientnet_lite0", "dlib_face"),
}
_NESTED = {"head": HeadConfig, "augment": AugmentConfig, "saliency_cfg": SaliencyConfig}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides how one member model is trained."""

    backbone: str  # a name in backend.models.registry.BACKBONES
    image_size: int  # side in pixels fed to the backbone (crops are resized)
    epochs: int  # epochs for 'fixed' and 'frozen_features' (gradual uses initial/cycle epochs)
    schedule: str = "fixed"  # 'fixed' | 'gradual_unfreeze' | 'frozen_features'
    batch_size: int = 32  # the paper's batch size
    learning_rate: float = 1e-4  # Adam's initial learning rate (paper)
    trainable_top_layers: int | None = 0  # 'fixed': top base layers trained; None = all
    initial_epochs: int = 20  # 'gradual_unfreeze': epochs of the frozen stage (paper)
    cycle_epochs: int = 10  # 'gradual_unfreeze': epochs per unfreezing cycle (paper)
    unfreeze_step: int = 10  # 'gradual_unfreeze': base layers unfrozen per cycle (paper)
    max_stale_cycles: int = 2  # stop after this many cycles without val-accuracy gain (paper)
    max_cycles: int | None = None  # cap on unfreezing cycles; None = until the base is open
    cycle_lr_decay: str = "paper"  # 'paper': every cycle at lr/10; 'compounding': lr/10**cycle
    plateau_factor: float = 0.1  # ReduceLROnPlateau: lr x this on a val-loss plateau (paper)
    plateau_patience: int = 2  # ... after this many epochs without improvement (paper)
    min_lr: float = 1e-6  # ... never below this (paper)
    early_stopping_patience: int = 5  # EarlyStopping on val loss, best weights restored (paper)
    saliency: str = "map"  # saliency front end: 'map' (paper), 'gate' (ours), 'none'
    weights: str = "imagenet"  # backbone start: 'imagenet', 'none' (random) or a file path
    head: HeadConfig = field(default_factory=HeadConfig)  # conv + dense head sizes
    augment: AugmentConfig = field(default_factory=AugmentConfig)  # per-class augmentation
    saliency_cfg: SaliencyConfig = field(default_factory=SaliencyConfig)  # saliency net shape
    feature_passes: int = 1  # cached train passes ('frozen_features', 'fine_tune_top'): pass_kinds
    mirror_pass: bool = False  # pass 1 is the horizontal mirror of pass 0, not an augmented copy
    dlib_jitter: bool = False  # dlib_face: augmented passes are dlib's jitter of the aligned chip
    split_block: int = 8  # 'fine_tune_top': blocks below this index stay frozen and are cached
    tta: bool = False  # test time: average the probabilities of each image and its mirror
    class_weights: str = "none"  # 'balanced': each class weighs the same in the loss
    seed: int = 0  # seeds weights init, shuffling and augmentation
    mixed_precision: str = "auto"  # float16 compute: 'auto' (GPU only), 'on', 'off' ('off' in paper)
    xla: str = "auto"  # XLA-compiled train step: 'auto' (GPU only), 'on', 'off' ('off' in paper)

    def __post_init__(self) -> None:
        func = "TrainConfig"
        spec = get_backbone(self.backbone, func=func)
        ints = {"image_size": spec.min_image_size, "epochs": 1, "batch_size": 1,
                "initial_epochs": 1, "cycle_epochs": 1, "unfreeze_step": 1,
                "max_stale_cycles": 1, "plateau_patience": 0, "early_stopping_patience": 0,
                "feature_passes": 1, "split_block": 1, "seed": 0}
        for name, low in ints.items():
            self._set(name, check_int(getattr(self, name), param=name, func=func, low=low))
        for name in ("trainable_top_layers", "max_cycles"):
            if getattr(self, name) is not None:
                self._set(name, check_int(getattr(self, name), param=name, func=func, low=0))
        self._set("learning_rate", check_float(self.learning_rate, param="learning_rate",
                                               func=func, low=1e-12))
        self._set("plateau_factor", check_float(self.plateau_factor, param="plateau_factor",
                                                func=func, low=1e-6, high=0.999))
        self._set("min_lr", check_float(self.min_lr, param="min_lr", func=func, low=0.0))
        check_choice(self.schedule, SCHEDULES, param="schedule", func=func)
        check_choice(self.class_weights, CLASS_WEIGHTS, param="class_weights", func=func)
        for name in ("mirror_pass", "dlib_jitter", "tta"):
            self._set(name, check_bool(getattr(self, name), param=name, func=func))
        check_choice(self.cycle_lr_decay, CYCLE_LR_DECAYS, param="cycle_lr_decay", func=func)
        check_choice(self.mixed_precision, SWITCHES, param="mixed_precision", func=func)
        check_choice(self.xla, SWITCHES, param="xla", func=func)
        for name, cls in _NESTED.items():
            if not isinstance(getattr(self, name), cls):
                raise InvalidParameterError(name, func, f"a {cls.__name__}", getattr(self, name))
        self._check_combination(spec, func)

    def _check_combination(self, spec, func: str) -> None:
        """Choices that are valid alone but not together."""
        saliency_ok = SALIENCY if spec.supports_saliency else ("none",)
        check_choice(self.saliency, saliency_ok, param="saliency", func=func)
        if spec.input_kind == "descriptor":
            # A descriptor is a fixed feature: only the head can train.
            check_choice(self.schedule, ("frozen_features",), param="schedule", func=func)
            check_choice(self.weights, ("none", "imagenet"), param="weights", func=func)
        if self.schedule in ("frozen_features", "fine_tune_top"):
            # Cached features need a fixed input to the backbone: no trained front end.
            check_choice(self.saliency, ("none",), param="saliency", func=func)
        if self.schedule == "fine_tune_top":
            # Only a backbone declared as blocks can be split at a block boundary.
            splittable = [n for n, s in BACKBONES.items() if s.blocks]
            check_choice(self.backbone, splittable, param="backbone", func=func)
            check_int(self.split_block, param="split_block", func=func, low=1,
                      high=spec.blocks - 1)
        if self.dlib_jitter and spec.input_kind != "descriptor":
            raise InvalidParameterError("dlib_jitter", func, "False for an image backbone "
                                        "(dlib's jitter makes descriptor passes)", True)
        if self.saliency != "none":
            check_saliency_size(self.image_size, self.saliency_cfg, func=func)
        if not isinstance(self.weights, str) or not self.weights:
            raise InvalidParameterError("weights", func, "'imagenet', 'none' or a file path",
                                        self.weights)

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; nested configs become dicts."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild from to_dict() (or config.json); unknown keys are an error."""
        return cls(**_with_nested(data, "TrainConfig.from_dict"))


def preset_members(preset: str) -> tuple[str, ...]:
    """The backbones whose models a preset trains and ensembles."""
    check_choice(preset, PRESETS, param="preset", func="preset_members")
    return PRESET_MEMBERS[preset]


# A train job's own words for changes to a preset, each turned into TrainConfig fields.
GREYSCALE_AUG_PROB = 0.3  # greyscale_aug: chance each training image is shown in grey
JOB_WORDS = {
    # patience=N: stop after N epochs without a better validation loss.
    "patience": lambda n: {"early_stopping_patience": n},
    # saliency=False: the ablation without the saliency front end; True keeps the preset's.
    "saliency": lambda keep: {} if keep else {"saliency": "none"},
    # greyscale_aug=True: train on some grey images too; False keeps the preset's.
    "greyscale_aug": lambda on: {"augment": {"greyscale_prob": GREYSCALE_AUG_PROB}} if on else {},
}


def preset_config(preset: str, backbone: str, **overrides: Any) -> TrainConfig:
    """The preset's config for `backbone`, with `overrides` applied.

    An override is a TrainConfig field (field=value) or one of a train job's own words
    in JOB_WORDS (patience=3, saliency=False, greyscale_aug=True). Nested overrides may
    be dicts: head={"dense_units": [64]} replaces only those fields.
    """
    func = "preset_config"
    check_choice(preset, PRESETS, param="preset", func=func)
    spec = get_backbone(backbone, func=func)
    if preset == "paper":
        check_choice(backbone, PRESET_MEMBERS["paper"], param="backbone", func=func)
    base = {"paper": _paper, "cpu": _cpu, "smoke": _smoke}[preset](spec)
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    for key, value in _in_field_words(overrides).items():
        check_choice(key, sorted(names), param="overrides", func=func)
        if key in _NESTED and isinstance(value, dict):
            # A dict updates the preset's nested config field by field.
            value = _NESTED[key](**_tuples({**dataclasses.asdict(getattr(base, key)), **value}))
        base = dataclasses.replace(base, **{key: value})
    return base


def departures(config: TrainConfig, preset: str) -> tuple[str, ...]:
    """The fields in which `config` leaves `preset`'s recipe for its backbone (the seed
    aside: another seed is another draw of the same recipe), sorted; () when none."""
    recipe = preset_config(preset, config.backbone).to_dict()
    mine = config.to_dict()
    return tuple(sorted(k for k in mine if k != "seed" and mine[k] != recipe.get(k)))


def _in_field_words(overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides with every job word (a bool saliency included) turned into fields."""
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        is_word = key in JOB_WORDS and (key != "saliency" or isinstance(value, bool))
        out.update(JOB_WORDS[key](value) if is_word else {key: value})
    return out


def _paper(spec) -> TrainConfig:
    """Section 3.3: Adam 1e-4, batch 32, ReduceLROnPlateau x0.1 / 2 epochs (floor 1e-6),
    EarlyStopping 5 with best weights, checkpoint of the best epoch; 224 px (3.1).
    float32 throughout, as published: no mixed precision, no XLA (both are switches)."""
    common = dict(backbone=spec.name, image_size=224, batch_size=32, learning_rate=1e-4,
                  plateau_factor=0.1, plateau_patience=2, min_lr=1e-6,
                  early_stopping_patience=5, saliency="map", weights="imagenet",
                  mixed_precision="off", xla="off")
    if spec.name == "vgg19":
        # 25 epochs with the top eight base layers fine-tuned.
        return TrainConfig(**common, epochs=25, schedule="fixed",
                           trainable_top_layers=spec.trainable_top_layers)
    # ResNet152V2: 20 frozen epochs, then 10-epoch cycles each unfreezing 10 more
    # base layers, every cycle at lr / 10 (1e-5), until 2 cycles bring no val-accuracy gain.
    return TrainConfig(**common, epochs=20, schedule="gradual_unfreeze", trainable_top_layers=0,
                       initial_epochs=20, cycle_epochs=10, unfreeze_step=10,
                       max_stale_cycles=2, max_cycles=None, cycle_lr_decay="paper")


def _cpu(spec) -> TrainConfig:
    """Within 45 minutes for the whole pipeline on 2 CPU cores and ~9k crops.

    Fine-tuning a whole ImageNet CNN on 2 cores costs minutes per epoch, so the image
    member ('fine_tune_top') cuts EfficientNet-Lite0 at block `split_block`: the
    lower blocks stay frozen and their output is computed once per pass and cached
    (clean, mirrored and augmented passes), and only the top blocks and the head
    train, at the crops' own 128 px. Test-time augmentation averages each face and
    its mirror. The frozen-features schedule stays available (schedule=frozen_features).
    """
    if spec.input_kind == "descriptor":
        # dlib's 128-d descriptors (cached by crop hash): one clean pass, since
        # every augmented pass costs a full dlib run and the descriptor is
        # already alignment-normalised; the head is small for 128 inputs.
        return TrainConfig(
            backbone=spec.name, image_size=spec.default_image_size, epochs=150,
            schedule="frozen_features", batch_size=64, learning_rate=1e-3,
            plateau_factor=0.3, plateau_patience=4, min_lr=1e-6, early_stopping_patience=12,
            saliency="none", weights="none", feature_passes=1,
            head=HeadConfig(dense_units=(256, 128), dropout=0.3, l2=1e-4))
    if spec.blocks:
        # EfficientNet-Lite0 split before block 8 (block5a): the frozen part's output
        # is 8 x 8 x 80 per 128 px face, the top is blocks 8-15 and the 1280-filter
        # conv. Six cached passes: clean, mirrored, four augmented; each epoch shows every
        # face once, in a pass drawn at random. Measured on validation (7,830 balanced
        # UTKFace faces): Adam 3e-4 over-fits by the third epoch (val loss 0.887, train
        # accuracy 85% against 68% on val); 1e-4 with six passes reaches val loss 0.839.
        return TrainConfig(
            backbone=spec.name, image_size=128, epochs=10, schedule="fine_tune_top",
            batch_size=64, learning_rate=1e-4, plateau_factor=0.3, plateau_patience=1,
            min_lr=1e-6, early_stopping_patience=3, saliency="none", weights="imagenet",
            feature_passes=6, mirror_pass=True, split_block=8, tta=True,
            # Pooled top features straight into one dense layer: no extra conv.
            head=HeadConfig(conv_filters=0, dense_units=(256,), dropout=0.3, l2=1e-4))
    # Other image backbones: ImageNet weights frozen, pooled features cached once;
    # 224 px, the scale the weights were trained at. Three train passes (one clean, two
    # augmented with the per-class strengths) triple the head's data.
    return frozen_features_config(spec)


def frozen_features_config(spec) -> TrainConfig:
    """The frozen-features image member: ImageNet backbone frozen at 224 px, its pooled
    features computed once per pass and cached, a dense head trained on them (the cpu
    preset's image member before fine-tuning; the ablation's first row)."""
    return TrainConfig(
        backbone=spec.name, image_size=spec.default_image_size, epochs=100,
        schedule="frozen_features", batch_size=64,
        # A dense head on fixed features tolerates a 10x larger step than fine-tuning.
        learning_rate=1e-3,
        # Gentler, later LR cuts and stopping suit many cheap epochs.
        plateau_factor=0.3, plateau_patience=3, min_lr=1e-6, early_stopping_patience=10,
        saliency="none", weights="imagenet", feature_passes=3,
        # 1280 pooled features -> 512 -> 256: wide enough, dropout against ~20k rows.
        head=HeadConfig(dense_units=(512, 256), dropout=0.4, l2=1e-4))


def _smoke(spec) -> TrainConfig:
    """Seconds on a CPU: smallest image, random weights, one epoch, a tiny head."""
    descriptor = spec.input_kind == "descriptor"
    return TrainConfig(
        backbone=spec.name, image_size=max(32, spec.min_image_size), epochs=1,
        schedule="frozen_features" if descriptor else "fixed", batch_size=8,
        learning_rate=1e-3, trainable_top_layers=None, initial_epochs=1, cycle_epochs=1,
        max_cycles=1, early_stopping_patience=1, saliency="none", weights="none",
        feature_passes=1, mixed_precision="off", xla="off",
        head=HeadConfig(conv_filters=8, dense_units=(16,), dropout=0.1, l2=0.0),
        saliency_cfg=SaliencyConfig(filters=(4, 8)))


def _with_nested(data: dict[str, Any], func: str) -> dict[str, Any]:
    """Turn nested dicts back into their config classes; JSON lists back into tuples."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise InvalidParameterError(unknown[0], func, f"a TrainConfig field {sorted(names)}",
                                    data[unknown[0]])
    out = dict(data)
    for name, cls in _NESTED.items():
        if isinstance(out.get(name), dict):
            out[name] = cls(**_tuples(out[name]))
    return out


def _tuples(values: dict[str, Any]) -> dict[str, Any]:
    """JSON has no tuples: lists become tuples so frozen configs compare equal."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}

