"""The paper's Table 1: the reference every result on the dashboard is read against,
and what may honestly be said when ours stand beside it."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Model names as the paper writes them, in its column order.
PAPER_MODELS = ("VGG-19", "ResNet152V2", "Ensemble")
PAPER_LABELS = ("1-19", "20-39", "40-59", "60-79", "80-99")
PAPER_TEST_N = 3757  # "the 3757 observations in the test set" (section 4)
PAPER_DATA = "42,000 IMDB-WIKI faces"

TABLE1: dict[str, dict] = {
    "VGG-19": {"accuracy": 0.6718, "one_off_accuracy": 0.9752,
               "per_class_accuracy": [0.6014, 0.7316, 0.6800, 0.5932, 0.7267]},
    "ResNet152V2": {"accuracy": 0.6444, "one_off_accuracy": 0.9598,
                    "per_class_accuracy": [0.6166, 0.6720, 0.6270, 0.5459, 0.7950]},
    "Ensemble": {"accuracy": 0.7027, "one_off_accuracy": 0.9808,
                 "per_class_accuracy": [0.6976, 0.7416, 0.6970, 0.5636, 0.8344]},
}

# The paper's column for each of its backbones; its ensemble combines exactly these.
_BY_BACKBONE = {"vgg19": "VGG-19", "resnet152v2": "ResNet152V2"}
_MODELS_IN_WORDS = {"VGG-19": "VGG-19", "ResNet152V2": "ResNet152V2",
                    "Ensemble": "VGG-19 + ResNet152V2"}


def paper_column(run_kind: str, backbone: str | None) -> str | None:
    """The paper's model in the same role (its ensemble for any ensemble, its VGG-19 for
    a vgg19 run...), to stand beside ours for reference; None when it has none."""
    if run_kind == "ensemble":
        return "Ensemble"
    return _BY_BACKBONE.get(backbone or "")


def reproduces(entry: Mapping[str, Any]) -> str | None:
    """The paper column a run reproduces: only the paper's own models (an ensemble of
    exactly vgg19 and resnet152v2), trained with the `paper` preset unchanged (no field
    departs from its recipe, the seed aside) from ImageNet weights; None for every other
    run, and for a run whose departures are unknown."""
    if (entry.get("preset") != "paper" or entry.get("weights") != "imagenet"
            or entry.get("departures") is None or len(entry["departures"])):
        return None
    if entry["kind"] == "ensemble":
        return "Ensemble" if sorted(entry.get("backbones") or ()) == sorted(_BY_BACKBONE) else None
    return _BY_BACKBONE.get(entry.get("backbone") or "")


def comparison_caption(entry: Mapping[str, Any], column: str) -> str:
    """The one caption wherever our numbers stand beside the paper's `column`."""
    ours = " + ".join(entry.get("backbones") or ()) or entry.get("backbone") or "?"
    changed = entry.get("departures")
    # For a paper-preset run, unknown changes are why it is not said to reproduce it.
    unknown = changed is None and entry.get("preset") == "paper"
    changed = (f", changed from the preset: {', '.join(changed)}" if changed else
               ", its changes from the preset not recorded" if unknown else "")
    n = entry.get("n_test")
    models = ("the same models (this run reproduces it)" if reproduces(entry) == column else
              f"different models (ours: {ours}, preset {entry.get('preset') or '?'}{changed}; "
              f"the paper's: {_MODELS_IN_WORDS[column]})")
    return (f"Beside the paper's {column}: {models} / different data (ours: "
            f"{entry.get('dataset')}, {entry.get('dataset_size', 0):,} faces; the paper's: "
            f"{PAPER_DATA}) / n = {'?' if n is None else f'{n:,}'} test faces here, "
            f"{PAPER_TEST_N:,} in the paper. Differences are in percentage points (pp).")
