"""The paper's Table 1: the reference every result on the dashboard is read against."""
from __future__ import annotations

# Model names as the paper writes them, in its column order.
PAPER_MODELS = ("VGG-19", "ResNet152V2", "Ensemble")
PAPER_LABELS = ("1-19", "20-39", "40-59", "60-79", "80-99")

TABLE1: dict[str, dict] = {
    "VGG-19": {"accuracy": 0.6718, "one_off_accuracy": 0.9752,
               "per_class_accuracy": [0.6014, 0.7316, 0.6800, 0.5932, 0.7267]},
    "ResNet152V2": {"accuracy": 0.6444, "one_off_accuracy": 0.9598,
                    "per_class_accuracy": [0.6166, 0.6720, 0.6270, 0.5459, 0.7950]},
    "Ensemble": {"accuracy": 0.7027, "one_off_accuracy": 0.9808,
                 "per_class_accuracy": [0.6976, 0.7416, 0.6970, 0.5636, 0.8344]},
}

# Which paper column a run of ours reproduces, by backbone (ensembles: 'Ensemble').
_BY_BACKBONE = {"vgg19": "VGG-19", "resnet152v2": "ResNet152V2"}


def paper_model_for(run_kind: str, backbone: str | None) -> str | None:
    """The paper column a run reproduces, or None when the paper has no such model."""
    if run_kind == "ensemble":
        return "Ensemble"
    return _BY_BACKBONE.get(backbone or "")
