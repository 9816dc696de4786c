"""The GradCAM gallery of section 5: the same test faces through every model, in
colour and in grey, with heatmaps, overlays, scores and a summary table. The maps
come from GradCAM (models with a feature map) or from occlusion sensitivity
(`occlusion.py`: any model, dlib_face and ensembles included), scored alike.

The paper shows, per model, correctly and wrongly classified faces (figures 6-9)
and greyscale copies (figures 10-11), and describes the maps in words. This job
chooses the faces with a seed, computes GradCAM for the predicted and the true
class, scores every map (`scores.py`), and writes what the dashboard shows:

    out_dir/
      gallery.json   config, selection, one item per (image, model, colour) with
                     true/pred/probs, scores and file paths relative to out_dir
      scores.csv     one row per (image, model, colour) with every score
      summary.csv    `summary_table`: means per model, colour and outcome
      images/<colour>/<id>.png                      the input face
      <model>/<colour>/<id>_<pred|true>_heatmap.png the map, 8-bit grey (0-255 = 0-1)
      <model>/<colour>/<id>_<pred|true>_overlay.png viridis over the face
      <model>/<colour>/<id>_saliency.png            the saliency front end's map, if any

Everything follows from the inputs and `GalleryConfig.seed`: no clocks, no
unseeded randomness, so a rerun writes the same files.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from backend.data.augment import to_greyscale
from backend.explain.heatmaps import class_heatmaps, has_saliency_front, saliency_front_maps
from backend.explain.methods import method_names
from backend.explain.occlusion import DEFAULT_GRID, occlusion_maps
from backend.explain.overlay import overlay
from backend.explain.scores import (BASELINES, deletion_auc, face_region_share, insertion_auc,
                                    normalised_entropy, random_heatmap, top_mass_share)
from backend.params import InvalidParameterError, check_choice, check_int

# Outcomes of one prediction, and the two versions of every image.
OUTCOMES = ("correct", "misclassified")
COLOURS = ("colour", "grey")
# The per-image scores that `summary_table` averages.
SCORE_COLUMNS = ("top10_mass", "entropy", "face_share", "deletion_auc", "insertion_auc",
                 "random_deletion_auc")
SUMMARY_COLUMNS = ("model", "colour", "outcome", *SCORE_COLUMNS, "accuracy", "n", "flat_maps")


@dataclass(frozen=True)
class GalleryConfig:
    """What the gallery shows and how its maps are scored."""

    per_class: int = 4  # images per true class and outcome (correct / misclassified)
    method: str = "gradcam"  # heatmap method, one of methods.METHODS
    grid: int = DEFAULT_GRID  # occlusion: cells per side of the covered grid
    steps: int = 20  # deletion / insertion steps, in equal pixel chunks
    baseline: str = "blur"  # what deleted pixels become, one of scores.BASELINES
    seed: int = 0  # drives image choice, random maps and tie-breaking
    batch_size: int = 32  # images per GradCAM / predict batch (memory only)

    def __post_init__(self) -> None:
        func = "GalleryConfig"
        object.__setattr__(self, "per_class", check_int(self.per_class, param="per_class",
                                                        func=func, low=1))
        check_choice(self.method, method_names(), param="method", func=func)
        object.__setattr__(self, "grid", check_int(self.grid, param="grid", func=func, low=1))
        object.__setattr__(self, "steps", check_int(self.steps, param="steps", func=func, low=1))
        check_choice(self.baseline, BASELINES, param="baseline", func=func)
        object.__setattr__(self, "seed", check_int(self.seed, param="seed", func=func, low=0))
        object.__setattr__(self, "batch_size", check_int(self.batch_size, param="batch_size",
                                                         func=func, low=1))


def select_images(y_true: Any, y_pred_by_model: Mapping[str, Any], per_class: int,
                  seed: int) -> dict[str, Any]:
    """Choose, per true class, `per_class` correct and `per_class` misclassified images.

    The SAME images serve every model, so their maps can be compared side by side.
    An image's group is decided by the first model in `y_pred_by_model` (the
    reference); images on which all models agree (all right or all wrong) are
    taken first, and only when there are too few of them is the group filled with
    images where only the reference has that outcome. Each (class, group) draws
    from its own generator seeded by (seed, class, group), so one class's pool
    does not change another's choice. Returns JSON-ready lists in the order class,
    then group, then index: `index` (positions in y_true), `label`, `group`,
    `all_agree`, plus `reference_model`, `models`, `per_class`, `seed` and
    `shortfall` ({"<class>/<group>": images missing}) for pools that ran short.
    """
    func = "select_images"
    per_class = check_int(per_class, param="per_class", func=func, low=1)
    seed = check_int(seed, param="seed", func=func, low=0)
    y = np.asarray(y_true).reshape(-1).astype(np.int64)
    if not y_pred_by_model:
        raise InvalidParameterError("y_pred_by_model", func, "a non-empty mapping", y_pred_by_model)
    names = list(y_pred_by_model)
    preds = [np.asarray(y_pred_by_model[n]).reshape(-1).astype(np.int64) for n in names]
    for name, pred in zip(names, preds):
        if pred.shape != y.shape:
            raise InvalidParameterError("y_pred_by_model", func, f"predictions of length {len(y)}",
                                        f"{name!r} with length {len(pred)}")
    correct = np.stack([pred == y for pred in preds])
    reference = correct[0]
    agree = (correct == reference).all(axis=0)
    out: dict[str, Any] = {"index": [], "label": [], "group": [], "all_agree": [],
                           "reference_model": names[0], "models": names,
                           "per_class": per_class, "seed": seed, "shortfall": {}}
    for label in np.unique(y):
        for g, group in enumerate(OUTCOMES):
            rng = np.random.default_rng([seed, int(label), g])
            in_group = (y == label) & (reference == (group == "correct"))
            # Agreed images first; reference-only ones just fill the gap.
            picked = rng.permutation(np.flatnonzero(in_group & agree))[:per_class]
            missing = per_class - len(picked)
            if missing:
                extra = rng.permutation(np.flatnonzero(in_group & ~agree))[:missing]
                picked = np.concatenate([picked, extra])
            if len(picked) < per_class:
                out["shortfall"][f"{int(label)}/{group}"] = per_class - len(picked)
            for i in np.sort(picked):
                out["index"].append(int(i))
                out["label"].append(int(label))
                out["group"].append(group)
                out["all_agree"].append(bool(agree[i]))
    return out


def greyscale_copies(images: Any) -> np.ndarray:
    """Grey copies (BT.601 luma in three equal channels), same shape and dtype."""
    return np.asarray(to_greyscale(np.asarray(images)))


def analyse_model(model: Any, images: Any, y_true: Any, *, layer: str | None,
                  cfg: GalleryConfig = GalleryConfig(), name: str,
                  ids: Any = None) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Predictions, maps and scores of one model on colour and grey copies.

    `model` is a Keras model, or for `cfg.method` 'occlusion' any function from a
    float [0, 1] batch to class probabilities (dlib_face, an ensemble); `layer` is
    the feature map GradCAM reads (unused by occlusion). `images` is (N, H, W, 3)
    uint8 or float in [0, 1]; `ids` (default 0..N-1) name the images in the rows.
    For each colour version the model predicts, then the method maps the predicted
    and the true class. The scores describe the predicted-class map (what the
    decision rested on): top-10% mass, entropy, face share, deletion and insertion
    AUC for the predicted class, and the deletion AUC of a random smooth map seeded
    by (seed, position), the same for every model and method.
    Returns (rows, maps): one flat dict per (image, colour), and per colour a dict
    with `images` (uint8), `probs`, `pred`, `true`, `pred_maps`, `true_maps` and, when the
    model has a saliency front end, `saliency`.
    """
    func = "analyse_model"
    x_colour = _as_unit_float(images, func)
    y = np.asarray(y_true).reshape(-1).astype(np.int64)
    if len(y) != len(x_colour):
        raise InvalidParameterError("y_true", func, f"one label per image ({len(x_colour)})",
                                    len(y))
    ids = list(range(len(y))) if ids is None else [_plain(i) for i in np.asarray(ids).reshape(-1)]
    if len(ids) != len(y):
        raise InvalidParameterError("ids", func, f"one id per image ({len(y)})", len(ids))
    predict_fn = _forward(model)  # one call per perturbation curve

    def class_maps(x: np.ndarray, classes: np.ndarray) -> np.ndarray:
        if cfg.method == "occlusion":
            return occlusion_maps(predict_fn, x, classes, grid=cfg.grid, baseline=cfg.baseline,
                                  batch_size=cfg.batch_size)
        return class_heatmaps(model, x, classes, layer=layer, method=cfg.method,
                              batch_size=cfg.batch_size)

    rows: list[dict[str, Any]] = []
    maps: dict[str, dict[str, Any]] = {}
    for colour, x in (("colour", x_colour), ("grey", greyscale_copies(x_colour))):
        probs = _predict(predict_fn, x, cfg.batch_size)
        pred = probs.argmax(axis=1)
        pred_maps = class_maps(x, pred)
        # The true-class map differs only where the prediction is wrong.
        true_maps = pred_maps.copy()
        wrong = pred != y
        if wrong.any():
            true_maps[wrong] = class_maps(x[wrong], y[wrong])
        maps[colour] = {"images": _to_uint8(x), "probs": probs, "pred": pred, "true": y,
                        "pred_maps": pred_maps, "true_maps": true_maps}
        if hasattr(model, "layers") and has_saliency_front(model):
            maps[colour]["saliency"] = saliency_front_maps(model, x, batch_size=cfg.batch_size)
        for i in range(len(x)):
            curve = {"steps": cfg.steps, "baseline": cfg.baseline, "seed": cfg.seed}
            h = pred_maps[i]
            random_map = random_heatmap(h.shape, seed=[cfg.seed, i])
            rows.append({
                "id": ids[i], "model": name, "colour": colour,
                "true": int(y[i]), "pred": int(pred[i]),
                "outcome": OUTCOMES[0] if pred[i] == y[i] else OUTCOMES[1],
                "prob_pred": float(probs[i, pred[i]]), "prob_true": float(probs[i, y[i]]),
                "top10_mass": top_mass_share(h, 0.1),
                "entropy": normalised_entropy(h),
                "face_share": face_region_share(h),
                "deletion_auc": deletion_auc(predict_fn, x[i], h, int(pred[i]), **curve).auc,
                "insertion_auc": insertion_auc(predict_fn, x[i], h, int(pred[i]), **curve).auc,
                "random_deletion_auc": deletion_auc(predict_fn, x[i], random_map, int(pred[i]),
                                                    **curve).auc,
            })
    return rows, maps


def summary_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Mean scores per (model, colour, outcome), with accuracy and n.

    `outcome` is each row's own outcome (that model on that colour version), so a
    grey copy of a 'correct' image may count as misclassified. `accuracy` is the
    share of correct predictions of that model and colour over all gallery images
    (the same in its two outcome rows), `n` the number of images in the row.
    Scores are means over images, NaN (flat maps) skipped; `flat_maps` counts the
    images whose map was flat (no positive evidence for the class, so no
    concentration score), which explains a NaN mean. Models keep the order they
    first appear in.
    """
    if not rows:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    df = pd.DataFrame(rows)
    df["model"] = pd.Categorical(df["model"], categories=list(dict.fromkeys(df["model"])))
    accuracy = (df["outcome"] == OUTCOMES[0]).groupby([df["model"], df["colour"]],
                                                     observed=True).mean()
    grouped = df.groupby(["model", "colour", "outcome"], observed=True, sort=True)
    table = grouped[list(SCORE_COLUMNS)].mean()
    table["n"] = grouped.size()
    table["flat_maps"] = grouped["top10_mass"].apply(lambda s: int(s.isna().sum()))
    table = table.reset_index()
    keys = list(zip(table["model"], table["colour"]))
    table["accuracy"] = [float(accuracy[k]) for k in keys]
    table["model"] = table["model"].astype(str)
    table["n"] = table["n"].astype(int)
    table["flat_maps"] = table["flat_maps"].astype(int)
    return table[list(SUMMARY_COLUMNS)]


def write_gallery(out_dir: str | Path, models: Mapping[str, tuple[Any, str]], images: Any,
                  y_true: Any, y_pred_by_model: Mapping[str, Any], *,
                  cfg: GalleryConfig = GalleryConfig(), ids: Any = None,
                  class_names: list[str] | None = None) -> Path:
    """Run the gallery job and write its files under `out_dir`; returns gallery.json's path.

    `models` maps a model name to (keras model, layer to explain), or for the
    'occlusion' method to (predict function, None); `images` and
    `y_true` are the whole test split and `y_pred_by_model` each model's
    predictions on it (e.g. from the run's predictions.csv), used only to choose
    the images with `select_images` (the first entry is the reference model).
    `ids` (default: positions) name the test images in files and JSON.
    """
    func = "write_gallery"
    if set(models) != set(y_pred_by_model):
        raise InvalidParameterError("models", func, "the same names as y_pred_by_model "
                                    f"{sorted(y_pred_by_model)}", sorted(models))
    y = np.asarray(y_true).reshape(-1).astype(np.int64)
    all_ids = np.arange(len(y)) if ids is None else np.asarray(ids).reshape(-1)
    if len(all_ids) != len(y) or len(np.unique(all_ids)) != len(all_ids):
        raise InvalidParameterError("ids", func, f"{len(y)} unique ids", len(all_ids))
    slugs = {name: _slug(name) for name in models}
    if len(set(slugs.values())) != len(slugs) or "images" in slugs.values():
        raise InvalidParameterError("models", func, "names that stay distinct as folder names "
                                    "(and are not 'images')", sorted(models))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    selection = select_images(y, y_pred_by_model, cfg.per_class, cfg.seed)
    picked = np.asarray(selection["index"], dtype=np.int64)
    chosen = np.asarray(images)[picked]
    chosen_ids = [_plain(i) for i in all_ids[picked]]
    group_of = dict(zip(chosen_ids, selection["group"]))

    all_rows: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for name in y_pred_by_model:
        model, layer = models[name]
        rows, maps = analyse_model(model, chosen, y[picked], layer=layer, cfg=cfg, name=name,
                                   ids=chosen_ids)
        by_key = {(r["id"], r["colour"]): r for r in rows}
        for colour, m in maps.items():
            for i, image_id in enumerate(chosen_ids):
                row = by_key[(image_id, colour)]
                row["group"] = group_of[image_id]
                files = _write_image_files(out, slugs[name], colour, image_id, i, m)
                items.append({
                    "id": image_id, "model": name, "colour": colour, "group": row["group"],
                    "outcome": row["outcome"], "true": row["true"], "pred": row["pred"],
                    "probs": [round(float(p), 6) for p in m["probs"][i]],
                    "scores": {k: _json_float(row[k]) for k in SCORE_COLUMNS},
                    "files": files,
                })
        all_rows.extend(rows)

    table = summary_table(all_rows)
    pd.DataFrame(all_rows).to_csv(out / "scores.csv", index=False)
    table.to_csv(out / "summary.csv", index=False)
    manifest = {
        "config": asdict(cfg),
        "selection": selection,
        "models": [{"name": n, "layer": models[n][1], "folder": slugs[n]} for n in y_pred_by_model],
        "class_names": list(class_names) if class_names is not None else None,
        "files": {"scores": "scores.csv", "summary": "summary.csv"},
        "summary": [{k: _json_float(v) if isinstance(v, float) else v for k, v in r.items()}
                    for r in table.to_dict(orient="records")],
        "items": items,
    }
    path = out / "gallery.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=_plain))
    return path


def _write_image_files(out: Path, folder: str, colour: str, image_id: Any, i: int,
                       m: dict[str, Any]) -> dict[str, str]:
    """Write one image's PNGs for one model and colour; returns paths relative to `out`."""
    stem = _slug(str(image_id))
    files = {"image": f"images/{colour}/{stem}.png"}
    _save_png(out / files["image"], m["images"][i])
    wrong = m["pred"][i] != m["true"][i]
    for which in ("pred", "true"):
        # A correct image's true-class map is its predicted-class map: one file.
        source = which if (which == "pred" or wrong) else "pred"
        heat = f"{folder}/{colour}/{stem}_{source}_heatmap.png"
        over = f"{folder}/{colour}/{stem}_{source}_overlay.png"
        if source == which:
            h = m[f"{which}_maps"][i]
            _save_png(out / heat, np.rint(h * 255).astype(np.uint8))
            _save_png(out / over, overlay(m["images"][i], h))
        files[f"{which}_heatmap"], files[f"{which}_overlay"] = heat, over
    if "saliency" in m:
        files["saliency"] = f"{folder}/{colour}/{stem}_saliency.png"
        _save_png(out / files["saliency"], np.rint(m["saliency"][i] * 255).astype(np.uint8))
    return files


def _save_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(array)).save(path, format="PNG")


def _forward(model: Any):
    """A function from a float batch to class probabilities: a Keras model is called in
    inference mode, any other callable (occlusion's predictors) as it is."""
    if hasattr(model, "layers"):
        return lambda batch: np.asarray(model(batch, training=False))
    return lambda batch: np.asarray(model(batch))


def _predict(predict_fn: Any, x: np.ndarray, batch_size: int) -> np.ndarray:
    """Class probabilities of `x` in batches, float64 (N, n_classes)."""
    parts = [np.asarray(predict_fn(x[s:s + batch_size]), dtype=np.float64)
             for s in range(0, len(x), batch_size)]
    return np.concatenate(parts, axis=0)


def _as_unit_float(images: Any, func: str) -> np.ndarray:
    """(N, H, W, 3) images as float32 in [0, 1] (uint8 is divided by 255)."""
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[-1] != 3 or len(x) == 0:
        raise InvalidParameterError("images", func, "a non-empty (N, H, W, 3) batch", x.shape)
    return x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def _slug(text: str) -> str:
    """A name that is safe as a file or folder name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "_"


def _plain(value: Any) -> Any:
    """numpy scalars as plain Python values (for JSON and dict keys)."""
    return value.item() if isinstance(value, np.generic) else value


def _json_float(value: Any) -> float | None:
    """A float rounded for JSON, with NaN as null."""
    value = float(value)
    return None if value != value else round(value, 6)
