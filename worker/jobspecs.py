"""The parameters every job kind takes, declared once. `agerec jobs submit`, the
foreground commands (`agerec train ...`), the Celery tasks and the dashboard's forms
all read this table: the command line's flag of a parameter is its name with dashes.
Every choice comes from the backend's own registries (loaded lazily; none of them
loads TensorFlow)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.evaluation.priors import TargetPriorChoice
from backend.params import (Boolean, Choice, Constraint, FilePath, Interval,
                            InvalidParameterError, ListOf, NameOrFile, Text, check_choice)


def _sources() -> tuple[str, ...]:
    from backend.data.readers import SOURCES
    return SOURCES


def _detectors() -> tuple[str, ...]:
    from backend.data.faces import DETECTORS
    return DETECTORS


def _backbones() -> tuple[str, ...]:
    from backend.models.registry import backbone_names
    return tuple(backbone_names())


def _presets() -> tuple[str, ...]:
    from backend.training.config import PRESETS
    return PRESETS


def _switches() -> tuple[str, ...]:
    from backend.training.config import SWITCHES
    return SWITCHES


def _oversample_modes() -> tuple[str, ...]:
    from backend.data.oversample import OVERSAMPLE_MODES
    return OVERSAMPLE_MODES


def _class_weights() -> tuple[str, ...]:
    from backend.training.config import CLASS_WEIGHTS
    return CLASS_WEIGHTS


def _cycle_lr_decays() -> tuple[str, ...]:
    from backend.training.schedules import CYCLE_LR_DECAYS
    return CYCLE_LR_DECAYS


def _explain_methods() -> tuple[str, ...]:
    from backend.explain.methods import method_names
    return method_names()


ENSEMBLE_METHODS = ("average", "meta")


@dataclass(frozen=True)
class Param:
    """One parameter of one job kind."""

    name: str
    constraint: Constraint  # what values it allows
    default: Any = None  # None with required=False means "not given"
    required: bool = False
    help: str = ""
    refers_to: str = ""  # "dataset" or "run": the id (or each id) must name a recorded one
    requires: str = ""  # another parameter that must be given whenever this one is


SOURCE = Choice(_sources)
DETECTOR = Choice(_detectors)
PRESET = Choice(_presets)
SEED = Interval(low=0)
POSITIVE = Interval(low=1)
RUN_IDS = ListOf(Interval(low=1), min_length=1)
SWITCH = Choice(_switches)

# Preprocessing options where the paper is vague or unsound (backend.preprocess.PreprocessConfig).
PREP_OPTIONS = (
    Param("min_face_score", Interval(type=float), help="imdb-wiki: drop photos whose face_score "
          "is below this (default 1.0; paper pipeline 0)"),
    Param("allow_second_face", Boolean(), help="imdb-wiki: keep photos where a second face was "
          "found (default false; paper pipeline true)"),
    Param("min_face_side", Interval(low=0), help="skip faces (with detector none: photos) "
          "whose shorter side is below this many pixels (default 32; 0 keeps any size)"),
    Param("oversample", Choice(_oversample_modes), "none", help="augmented copies of under-cap "
          "classes: 'train' (train split only) or 'before_split_leak' (the paper's leak: copies "
          "reach val and test; never for a real result)"),
    Param("keep_all_faces", Boolean(), help="ours: reserve a natural-mix test set, then "
          "train on every other face balancing left out (train with class_weights=balanced)"),
)
# float16 compute and XLA: 'auto' = on a GPU only; the paper preset turns both off.
PRECISION = (
    Param("mixed_precision", SWITCH, help="float16 compute: auto (GPU only), on or off "
          "(default: preset's; paper: off, float32 as published)"),
    Param("xla", SWITCH, help="XLA-compiled training: auto (GPU only), on or off "
          "(default: preset's; paper: off)"),
)
# Shared by the evaluate job and `agerec predict` (which is not a job).
TARGET_PRIOR = Param("target_prior", TargetPriorChoice(), "none", help="correct predictions "
                     "to a class mix: none (the model as trained, on balanced classes), source "
                     "(the source data's mix before balancing), or one weight per class, "
                     "e.g. 0.2,0.4,0.2,0.15,0.05")

JOB_PARAMS: dict[str, tuple[Param, ...]] = {
    "preprocess": (
        Param("source", SOURCE, "utkface", required=True, help="the dataset's layout"),
        Param("path", FilePath(), required=True, help="image folder, image root or CSV file"),
        Param("meta", FilePath(), help="imdb-wiki: the wiki.mat / imdb.mat file"),
        Param("classes", Text(), "5", help="'5', '8' or explicit edges like 1,20,40,100"),
        Param("image_size", Interval(low=16), 128, help="crop side in pixels"),
        Param("detector", DETECTOR, "cnn", help="face detector: dlib CNN (the paper's), HOG, "
                                                "or none for pre-cropped faces"),
        Param("limit", POSITIVE, help="BEFORE face detection: a seeded random sample of this "
                                      "many source images (saves detection time)"),
        Param("max_faces", POSITIVE, help="AFTER face detection: a seeded random sample of this "
                                          "many faces (the paper's 42,000)"),
        *PREP_OPTIONS,
        Param("seed", SEED, 0, help="seed for sampling, balancing and split"),
        Param("workers", POSITIVE, help="face-detection processes (default: one per core)"),
    ),
    "train": (
        Param("dataset_id", POSITIVE, required=True, help="a prepared dataset",
              refers_to="dataset"),
        Param("backbone", Choice(_backbones), "vgg19", required=True, help="the backbone"),
        Param("preset", PRESET, "paper", help="the training recipe: paper (224 px), cpu "
                                              "(an hour on 2 cores) or smoke (seconds)"),
        Param("weights", NameOrFile(("imagenet", "none")),
              help="imagenet, none, or a weights file (default: preset's)"),
        Param("saliency", Boolean(), True, help="keep the saliency front end (off = ablation)"),
        Param("epochs", POSITIVE, help="override the preset's epochs"),
        Param("patience", POSITIVE, help="override the early-stopping patience"),
        Param("greyscale_aug", Boolean(), False, help="greyscale augmentation"),
        Param("class_weights", Choice(_class_weights), help="'balanced': every class weighs "
              "the same in the loss (for a keep_all_faces dataset); default: preset's"),
        *PRECISION,
        Param("cycle_lr_decay", Choice(_cycle_lr_decays), help="gradual unfreezing: 'paper' "
              "(every cycle at lr/10) or 'compounding' (lr/10 per cycle, ours); "
              "default: preset's"),
        Param("seed", SEED, 0, help="seed"),
    ),
    "ensemble": (
        Param("runs", RUN_IDS, required=True, help="member run ids sharing a class scheme",
              refers_to="run"),
        Param("method", Choice(lambda: ENSEMBLE_METHODS), "meta", help="average or meta-model"),
        Param("trials", POSITIVE, 20, help="random-search trials (the paper's 20)"),
        Param("seed", SEED, 0, help="seed of the random search"),
    ),
    "evaluate": (
        Param("run_id", POSITIVE, required=True, help="a training or ensemble run",
              refers_to="run"),
        Param("source", SOURCE, help="an external labelled dataset's layout",
              requires="path"),
        Param("path", FilePath(), help="the external dataset's folder or file",
              requires="source"),
        Param("meta", FilePath(), help="imdb-wiki: the .mat file", requires="source"),
        Param("detector", DETECTOR, help="the external dataset's face detector (default: the "
              "one the run's dataset was cropped with; cnn for uncropped photos)",
              requires="source"),
        TARGET_PRIOR,
    ),
    "gradcam": (
        Param("runs", RUN_IDS, required=True, help="run ids on the same dataset",
              refers_to="run"),
        Param("per_class", POSITIVE, 4, help="correct and misclassified images per class"),
        Param("method", Choice(_explain_methods), "gradcam", help="gradcam or gradcam++ (models "
              "with a convolutional feature map), or occlusion (any model: dlib_face and "
              "ensembles too)"),
        Param("occlusion_grid", Interval(low=1), 8, help="occlusion: cells per side of the "
              "grid covered one at a time (more = finer map, slower)"),
        Param("steps", POSITIVE, 20, help="steps of the deletion and insertion curves "
              "(fewer = faster, coarser scores)"),
        Param("seed", SEED, 0, help="seed of the image choice"),
    ),
    "pipeline": (
        Param("source", SOURCE, "utkface", required=True, help="the dataset's layout"),
        Param("path", FilePath(), required=True, help="image folder, image root or CSV file"),
        Param("meta", FilePath(), help="imdb-wiki: the .mat file"),
        Param("classes", Text(), "5", help="'5', '8' or explicit edges"),
        Param("detector", DETECTOR, help="face detector (default: cnn, none for utkface)"),
        Param("limit", POSITIVE, help="BEFORE face detection: a seeded random sample of this "
                                      "many source images (default: preset's)"),
        Param("max_faces", Interval(low=0), help="AFTER face detection: a seeded random "
              "sample of this many faces; 0 = every face (default: preset's, paper 42000)"),
        *PREP_OPTIONS,
        Param("preset", PRESET, "paper", help="the training recipe"),
        Param("members", ListOf(Choice(_backbones)),
              help="backbones to train (default: preset's)"),
        Param("ensemble", Choice(lambda: ENSEMBLE_METHODS), "meta", help="how to combine"),
        Param("per_class", POSITIVE, 2, help="GradCAM images per class and outcome"),
        *PRECISION,
        Param("seed", SEED, 0, help="one seed for every stage"),
    ),
}

JOB_KINDS = tuple(JOB_PARAMS)


def validate_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise `params` for `kind`; errors name the parameter, value and choices."""
    check_choice(kind, JOB_KINDS, param="kind", func="submit")
    specs = {p.name: p for p in JOB_PARAMS[kind]}
    unknown = sorted(set(params) - set(specs))
    if unknown:
        raise InvalidParameterError(unknown[0], f"the {kind!r} job", f"one of {sorted(specs)}",
                                    params[unknown[0]])
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        value = params.get(name)
        if value is None or value == "":
            if spec.required:
                raise InvalidParameterError(name, f"the {kind!r} job", "given (it is required)", value)
            if spec.default is not None:
                out[name] = spec.default
            continue
        out[name] = spec.constraint.check(value, param=name, func=f"the {kind!r} job")
    for name, spec in specs.items():
        if spec.requires and name in out and spec.requires not in out:
            raise InvalidParameterError(name, f"the {kind!r} job", f"given only together "
                                        f"with {spec.requires!r} (without it, {name!r} would be "
                                        "ignored)", out[name])
    return out


def check_references(db, kind: str, params: dict[str, Any]) -> None:
    """Refuse validated `params` that name a dataset or run `db` does not hold: such a
    job could never run, so it is refused before it is recorded."""
    from storage import datasets, runs
    from storage.errors import NotFoundError

    lookups = {"dataset": datasets.get_dataset, "run": runs.get_run}
    for spec in JOB_PARAMS[kind]:
        value = params.get(spec.name)
        if not spec.refers_to or value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            try:
                lookups[spec.refers_to](db, item)
            except NotFoundError as exc:
                raise InvalidParameterError(spec.name, f"the {kind!r} job", f"the id of an "
                                            f"existing {spec.refers_to} ({exc})", value) from None


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`key=value` strings from the command line into a dict."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterError("param", "jobs submit", "of the form key=value", pair)
        out[key.strip()] = value.strip()
    return out
