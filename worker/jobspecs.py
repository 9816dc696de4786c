"""The parameters every job kind takes, declared once. `agerec jobs submit`, the
Celery tasks and the dashboard's forms all read this table, and every choice comes
from the backend's own registries (loaded lazily; none of them loads TensorFlow)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.params import InvalidParameterError, check_bool, check_choice, check_int


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


ENSEMBLE_METHODS = ("average", "meta")
GRADCAM_METHODS = ("gradcam", "gradcam++")
WEIGHTS_CHOICES = ("imagenet", "none")  # or a path to a weights file


@dataclass(frozen=True)
class Param:
    """One parameter of one job kind."""

    name: str
    kind: str  # 'str', 'path', 'int', 'bool', 'choice', 'ids' (a list of ids), 'choices' (a list)
    default: Any = None  # None with required=False means "not given"
    required: bool = False
    choices: Callable[[], tuple[str, ...]] | None = None  # lazily read registry
    help: str = ""
    low: int | None = None  # smallest allowed int


def _p(*args, **kwargs) -> Param:
    return Param(*args, **kwargs)


JOB_PARAMS: dict[str, tuple[Param, ...]] = {
    "preprocess": (
        _p("source", "choice", "utkface", True, _sources, "the dataset's layout"),
        _p("path", "path", None, True, None, "image folder, image root or CSV file"),
        _p("meta", "path", None, False, None, "imdb-wiki: the wiki.mat / imdb.mat file"),
        _p("classes", "str", "5", False, None, "'5', '8' or explicit edges like 1,20,40,100"),
        _p("image_size", "int", 128, False, None, "crop side in pixels", low=16),
        _p("detector", "choice", "cnn", False, _detectors, "face detector"),
        _p("limit", "int", None, False, None, "a seeded random sample of this many images", low=1),
        _p("seed", "int", 0, False, None, "seed for sampling, balancing and split", low=0),
    ),
    "train": (
        _p("dataset_id", "int", None, True, None, "a prepared dataset", low=1),
        _p("backbone", "choice", "vgg19", True, _backbones, "the backbone"),
        _p("preset", "choice", "paper", False, _presets, "the training recipe"),
        _p("weights", "str", None, False, None, "imagenet, none, or a weights file (default: preset)"),
        _p("saliency", "bool", True, False, None, "keep the saliency front end (false = ablation)"),
        _p("epochs", "int", None, False, None, "override the preset's epochs", low=1),
        _p("patience", "int", None, False, None, "override the early-stopping patience", low=1),
        _p("greyscale_aug", "bool", False, False, None, "greyscale augmentation"),
        _p("seed", "int", 0, False, None, "seed", low=0),
    ),
    "ensemble": (
        _p("runs", "ids", None, True, None, "member run ids sharing a class scheme"),
        _p("method", "choice", "meta", False, lambda: ENSEMBLE_METHODS, "average or meta-model"),
        _p("trials", "int", 20, False, None, "random-search trials (the paper's 20)", low=1),
        _p("seed", "int", 0, False, None, "seed of the random search", low=0),
    ),
    "evaluate": (
        _p("run_id", "int", None, True, None, "a training or ensemble run", low=1),
        _p("source", "choice", None, False, _sources, "an external labelled dataset's layout"),
        _p("path", "path", None, False, None, "the external dataset's path"),
        _p("meta", "path", None, False, None, "imdb-wiki: the .mat file"),
    ),
    "gradcam": (
        _p("runs", "ids", None, True, None, "run ids on the same dataset"),
        _p("per_class", "int", 4, False, None, "correct and misclassified images per class", low=1),
        _p("method", "choice", "gradcam", False, lambda: GRADCAM_METHODS, "the CAM method"),
        _p("seed", "int", 0, False, None, "seed of the image choice", low=0),
    ),
    "pipeline": (
        _p("source", "choice", "utkface", True, _sources, "the dataset's layout"),
        _p("path", "path", None, True, None, "image folder, image root or CSV file"),
        _p("meta", "path", None, False, None, "imdb-wiki: the .mat file"),
        _p("classes", "str", "5", False, None, "'5', '8' or explicit edges"),
        _p("detector", "choice", None, False, _detectors, "face detector (default: cnn, none for utkface)"),
        _p("limit", "int", None, False, None, "a seeded random sample (default: preset's)", low=1),
        _p("preset", "choice", "paper", False, _presets, "the training recipe"),
        _p("members", "choices", None, False, _backbones, "backbones to train (default: preset's)"),
        _p("ensemble", "choice", "meta", False, lambda: ENSEMBLE_METHODS, "how to combine"),
        _p("per_class", "int", 2, False, None, "GradCAM images per class and outcome", low=1),
        _p("seed", "int", 0, False, None, "one seed for every stage", low=0),
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
        out[name] = _coerce(spec, value, kind)
    return out


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`key=value` strings from the command line into a dict."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterError("param", "jobs submit", "of the form key=value", pair)
        out[key.strip()] = value.strip()
    return out


def _coerce(spec: Param, value: Any, kind: str) -> Any:
    func = f"the {kind!r} job"
    if spec.kind == "int":
        return check_int(value, param=spec.name, func=func, low=spec.low)
    if spec.kind == "bool":
        return check_bool(value, param=spec.name, func=func)
    if spec.kind == "choice":
        return check_choice(value, spec.choices(), param=spec.name, func=func)
    if spec.kind == "ids":
        items = _as_list(value)
        if not items:
            raise InvalidParameterError(spec.name, func, "a non-empty list of ids", value)
        return [check_int(v, param=spec.name, func=func, low=1) for v in items]
    if spec.kind == "choices":
        allowed = spec.choices()
        return [check_choice(v, allowed, param=spec.name, func=func) for v in _as_list(value)]
    if spec.kind == "path":
        # Resolved where it is submitted, so a worker elsewhere reads the same place.
        return str(Path(str(value)).expanduser().resolve())
    return str(value)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [v.strip() for v in str(value).split(",") if v.strip()]
