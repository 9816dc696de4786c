"""Speed of agerec's product code paths, each as a ratio against a plain baseline
measured in the same run, on the real shared data.

Measures (ours / baseline, in images per second unless said):

- training_<model>: `model.fit` fed by `make_dataset` (uint8 crops in images.npy,
  per-class augmentation, prefetch) / `model.fit` fed by a Python generator that
  decodes each JPEG with PIL and augments it in Python (bench/baselines.py).
- training_frozen_<model>: the cpu preset's way to train a frozen-backbone model
  (every feature pass through the backbone once, cached, then the dense head alone
  for `frozen_epochs` epochs) / `fit` of the same frozen model and head on the PIL
  generator, which runs the backbone on every image in every epoch.
- training_input_only: the same two inputs iterated without a model: what each can
  deliver, i.e. the ratio an accelerator fast enough to keep up would see.
- input_pipeline_efficiency_<model>: end-to-end training rate / the model's own
  step rate on one batch already in memory (1.0: the input never starves the model).
- face_detection_parallel / face_detection_cached: `extract_crops` (dlib CNN) with
  2 workers / with 1, and a rerun on the filled cache / the 1-worker pass.
- gradcam: `class_heatmaps` in batches of 32 / the same in batches of 1 (one image
  per gradient pass).
- inference: `model.predict` on `make_dataset` / decode each JPEG with PIL and call
  the model on it alone.
- gflops_<model>: achieved GFLOP/s of a training step (analytic conv/dense FLOPs x 3,
  bench/flops.py, times the in-memory step rate) / a 2048 x 2048 float32 matmul's.
- matmul_bf16: bfloat16 / float32 GFLOP/s of the same matmul on this CPU.

Training arms run interleaved in rounds on one compiled model, so the machine's
drift hits all arms alike; the per-round spread of each ratio is in its notes.
Every rate is a steady-state rate: the first step of each timed fit (iterator start,
prefetch fill) is not counted. Models use random weights ('none'): speed does not
depend on the weight values.

Run from the repository root, venv active:
  python -m bench.speed [--quick] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.ratios import row, skipped, spread, steady_rate, table
from storage.settings import Settings

# Nothing heavy is imported at module level: crop workers are spawned processes
# that import this module again, and must not pay for TensorFlow.
REPO = Path(__file__).resolve().parents[1]
SCHEME = "5"
DETECTOR = "cnn"


@dataclass(frozen=True)
class Plan:
    """How much work each measure does; `quick` trades precision for time."""

    train_images: int  # UTKFace images prepared into the uint8 array
    batch_size: int  # the paper's 32 in the full run
    image_size: int  # EfficientNet-Lite0's input side
    rounds: int  # interleaved rounds of the three training arms
    steps: int  # timed training steps per arm and round (plus one untimed)
    input_batches: int  # batches timed for the input-only rates
    detect_images: int  # FG-NET portraits through the CNN detector
    gradcam_images: int  # images through class_heatmaps (one by one gets a quarter)
    infer_images: int  # images through model.predict (the baseline gets an eighth)
    matmul_repeats: int  # timed runs of each matmul (the best one counts)
    vgg_batch_size: int  # batch for the paper's VGG-19 at 64 px; 0 = not measured
    frozen_epochs: int  # head epochs to amortise over (the cpu EfficientNet head early-stopped at 15)
    frozen_timed_epochs: int  # head epochs actually timed (the rest are extrapolated)


PLANS = {
    "full": Plan(train_images=512, batch_size=32, image_size=128, rounds=2, steps=2,
                 input_batches=6, detect_images=32, gradcam_images=32, infer_images=256,
                 matmul_repeats=3, vgg_batch_size=16, frozen_epochs=15, frozen_timed_epochs=5),
    "quick": Plan(train_images=96, batch_size=16, image_size=64, rounds=1, steps=2,
                  input_batches=3, detect_images=4, gradcam_images=8, infer_images=64,
                  matmul_repeats=1, vgg_batch_size=0, frozen_epochs=15, frozen_timed_epochs=1),
}


# --------------------------------------------------------------------------- data


@dataclass
class Faces:
    """A UTKFace sample: JPEG paths, class labels and the product's prepared uint8 array."""

    paths: list[str]
    labels: np.ndarray
    images: np.ndarray  # (N, S, S, 3) uint8, a memmap of images.npy as training reads it
    prepare_rate: float  # images/s of the one-off decode + crop into the array


def utkface_faces(root: Path, n: int, size: int, workdir: Path, seed: int = 0) -> Faces:
    """Sample n UTKFace photos (seeded), crop them as preprocessing does, save images.npy."""
    from backend.data.classes import scheme_from
    from backend.data.faces import extract_face
    from backend.data.images import load_image
    from backend.data.readers.utkface import read_utkface

    records = read_utkface(root).records
    labels_all = scheme_from(SCHEME).assign([r.age for r in records])
    # Only photos inside the scheme's ages, as preprocessing keeps them.
    usable = np.flatnonzero(labels_all >= 0)
    picks = np.sort(np.random.default_rng(seed).choice(usable, size=n, replace=False))
    paths = [records[i].path for i in picks]
    start = time.perf_counter()
    # detector 'none': UTKFace is already cropped, so preprocessing only pads and resizes.
    crops = np.stack([extract_face(load_image(p), "none", size=size) for p in paths])
    prepare_rate = n / (time.perf_counter() - start)
    # Training reads images.npy as a memmap (backend.dataset.load_prepared).
    np.save(workdir / "images.npy", crops)
    images = np.load(workdir / "images.npy", mmap_mode="r")
    return Faces(paths, labels_all[picks], images, prepare_rate)


# ------------------------------------------------------------------ face detection


def measure_detection(data_root: Path, n: int, workdir: Path) -> dict[str, dict]:
    """extract_crops on n FG-NET portraits: 1 worker, 2 workers (fresh caches), rerun."""
    from backend.data.crop_cache import CropSpec, count_detections, extract_crops

    folder = data_root / "fgnet" / "images"
    if not folder.is_dir():
        reason = f"FG-NET portraits not found at {folder}"
        return {"face_detection_parallel": skipped(reason, target=1.8),
                "face_detection_cached": skipped(reason, target=10.0)}
    names = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    paths = [names[i] for i in np.sort(np.random.default_rng(0).choice(len(names), n, False))]
    spec = CropSpec(DETECTOR)

    def timed(cache: Path, workers: int) -> tuple[float, list]:
        start = time.perf_counter()
        outcomes = extract_crops(paths, cache, spec, workers=workers)
        return n / (time.perf_counter() - start), outcomes

    # Fresh cache folders, so both first passes detect every photo.
    one, one_out = timed(workdir / "crops-1", 1)
    two, two_out = timed(workdir / "crops-2", 2)
    cached, cached_out = timed(workdir / "crops-2", 2)
    faces = sum(o.status == "detected" for o in one_out)
    same = [o.crop_path and Path(o.crop_path).name for o in one_out] == \
        [o.crop_path and Path(o.crop_path).name for o in two_out]
    base = (f"{n} FG-NET portraits (seeded sample), dlib CNN at {spec.key}; {faces} faces "
            f"found; 1- and 2-worker results identical: {same}; cores: {os.cpu_count()}, "
            f"shared with other jobs")
    return {
        "face_detection_parallel": row(two, one, target=1.8, notes=(
            f"{base}. extract_crops(workers=2) / extract_crops(workers=1); the 2-worker "
            "time includes starting 2 spawned processes and loading the detector in each")),
        "face_detection_cached": row(cached, one, target=10.0, notes=(
            f"{base}. rerun on the filled cache ({count_detections(cached_out)} detector "
            "runs: every photo is hashed and served from its PNG) / extract_crops(workers=1)")),
    }


# ------------------------------------------------------------------------ training


def build(backbone: str, size: int, n_classes: int) -> Any:
    """A product model (random weights, no saliency front end) compiled as the trainer does."""
    import keras

    from backend.models.build import build_model

    model = build_model(backbone, n_classes, size, weights="none", saliency="none")
    # The trainer's compile: Adam, cross-entropy, accuracy; no XLA on a CPU ('auto').
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    return model


def fit_rate(model: Any, data: Any, steps: int, batch_size: int) -> float:
    """Steady-state images/s of `model.fit` on `data` over `steps` timed steps."""
    import keras

    stamps: list[float] = []
    clock = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: stamps.append(time.perf_counter()))
    # One extra step: its end is the start of the timed ones.
    model.fit(data, steps_per_epoch=steps + 1, epochs=1, verbose=0, shuffle=False,
              callbacks=[clock])
    return steady_rate(stamps, batch_size)


def iterate_rate(batches: Iterable, n: int, batch_size: int) -> float:
    """Steady-state images/s of pulling n + 1 batches from `batches`, first one untimed."""
    iterator = iter(batches)
    stamps = []
    for _ in range(n + 1):
        next(iterator)
        stamps.append(time.perf_counter())
    return steady_rate(stamps, batch_size)


def training_inputs(faces: Faces, batch_size: int, size: int, n_classes: int) -> dict[str, Any]:
    """Our tf.data input, the baseline generator and one batch cached in memory."""
    from backend.data.augment import AugmentConfig, class_strengths
    from backend.data.input_pipeline import make_dataset
    from bench import baselines

    cfg = AugmentConfig()
    strengths = class_strengths(np.bincount(faces.labels, minlength=n_classes), cfg)

    def ours() -> Any:
        return make_dataset(faces.images, faces.labels, n_classes=n_classes,
                            batch_size=batch_size, training=True, augment=cfg,
                            strengths=strengths, image_size=size, seed=0)

    def plain() -> Any:
        return baselines.training_batches(faces.paths, faces.labels, n_classes=n_classes,
                                          batch_size=batch_size, size=size,
                                          strengths=strengths, cfg=cfg, seed=0)

    # One real batch, cached: same element spec as ours, so no retracing.
    in_memory = ours().take(1).cache().repeat()
    return {"ours": ours, "plain": plain, "in_memory": in_memory}


def measure_training(model: Any, name: str, inputs: dict[str, Any], *, batch_size: int,
                     rounds: int, steps: int, flops_per_image: int,
                     matmul: float | None) -> dict[str, dict]:
    """Interleaved rounds of fit on: one batch in memory, our pipeline, the baseline."""
    ours_ds = inputs["ours"]().repeat()
    plain_gen = inputs["plain"]()
    # Warm-up: trace the train step once, and let both inputs start.
    fit_rate(model, inputs["in_memory"], 1, batch_size)
    rates: dict[str, list[float]] = {"in_memory": [], "ours": [], "plain": []}
    for _ in range(rounds):
        rates["in_memory"].append(fit_rate(model, inputs["in_memory"], steps, batch_size))
        rates["ours"].append(fit_rate(model, ours_ds, steps, batch_size))
        rates["plain"].append(fit_rate(model, plain_gen, steps, batch_size))
    mean = {k: statistics.fmean(v) for k, v in rates.items()}
    vs_plain = [o / p for o, p in zip(rates["ours"], rates["plain"])]
    vs_memory = [o / m for o, m in zip(rates["ours"], rates["in_memory"])]
    setup = (f"{name}, batch {batch_size}, random weights, no saliency front end, "
             f"{steps} timed steps x {rounds} round(s)")
    out = {
        f"training_{name}": row(mean["ours"], mean["plain"], target=3.0, notes=(
            f"{setup}. ours: make_dataset (images.npy memmap, per-class augmentation, "
            f"prefetch) -> fit; baseline: PIL decode + PIL augmentation generator -> fit. "
            f"{spread(vs_plain)}")),
        f"input_pipeline_efficiency_{name}": row(mean["ours"], mean["in_memory"], target=0.9,
                                                  notes=(
            f"{setup}. end-to-end fit on make_dataset / fit on one batch cached in memory "
            f"(same element spec, same traced step). {spread(vs_memory)}")),
    }
    # Achieved GFLOP/s of the model's own step, next to the matmul on this machine.
    gflops = flops_per_image * mean["in_memory"] / 1e9
    out[f"gflops_{name}"] = row(gflops, matmul, unit="GFLOP/s", notes=(
        f"{flops_per_image / 1e9:.3f} GFLOP per image per training step (analytic: conv and "
        f"dense MACs x 2, x 3 for forward + backward) x the in-memory step rate "
        f"{mean['in_memory']:.3g} img/s; baseline: tf.linalg.matmul 2048 x 2048 float32"))
    return out


def frozen_training_rate(n_images: int, epochs: int, extract_s: float,
                         head_epoch_s: float) -> float:
    """Training images/s over `epochs` epochs of n_images when the backbone's features
    are extracted once (extract_s, every pass) and each epoch then trains the head alone."""
    return n_images * epochs / (extract_s + epochs * head_epoch_s)


def measure_frozen_training(faces: Faces, plan: Plan, n_classes: int) -> dict[str, dict]:
    """The cpu preset's frozen-features training / fit of the same frozen model on the
    PIL generator (the backbone runs on every image in every epoch)."""
    import keras

    from backend.data.augment import class_strengths
    from backend.models.build import feature_extractor
    from backend.training.config import preset_config
    from backend.training.features import (compose, extract_features, feature_dataset,
                                           feature_head, image_pass)
    from bench import baselines

    backbone, size, batch = "efficientnet_lite0", plan.image_size, plan.batch_size
    cfg = preset_config("cpu", backbone, image_size=size, weights="none", batch_size=batch)
    strengths = class_strengths(np.bincount(faces.labels, minlength=n_classes), cfg.augment)
    extractor = feature_extractor(backbone, size, "none")
    n = len(faces.labels)

    def compiled(model):
        model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate),
                      loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=False)
        return model

    # Ours: each pass (clean, then augmented) through the backbone once.
    extractor.predict_on_batch(np.zeros((batch, size, size, 3), np.float32))  # trace, untimed
    start = time.perf_counter()
    features = np.concatenate([extract_features(extractor, image_pass(
        faces.images, faces.labels, n_classes=n_classes, image_size=size, pass_index=p,
        augment=cfg.augment, strengths=strengths, seed=0, batch_size=batch), batch)
        for p in range(cfg.feature_passes)])
    extract_s = time.perf_counter() - start
    # ... then the head alone on the cached vectors, every epoch reshuffled.
    rows = feature_dataset(features, np.tile(faces.labels, cfg.feature_passes), n_classes,
                           batch, seed=0)
    head = compiled(feature_head(features.shape[1], n_classes, cfg.head))
    head.fit(rows, epochs=1, verbose=0)  # trace, untimed
    start = time.perf_counter()
    head.fit(rows, epochs=plan.frozen_timed_epochs, verbose=0)
    head_epoch_s = (time.perf_counter() - start) / plan.frozen_timed_epochs
    ours = frozen_training_rate(n, plan.frozen_epochs, extract_s, head_epoch_s)
    # Baseline: the same frozen backbone and head as one model, fed by the PIL generator.
    model = compiled(compose(extractor, feature_head(features.shape[1], n_classes, cfg.head)))
    plain = fit_rate(model, baselines.training_batches(
        faces.paths, faces.labels, n_classes=n_classes, batch_size=batch, size=size,
        strengths=strengths, cfg=cfg.augment, seed=0), 3 * plan.steps, batch)
    name = f"{backbone}_{size}px"
    return {f"training_frozen_{name}": row(ours, plain, target=3.0, notes=(
        f"{name}, batch {batch}, frozen backbone (random weights), the cpu preset's head; "
        f"{plan.frozen_epochs} epochs of {n} images. ours: {cfg.feature_passes} feature "
        f"passes extracted once ({extract_s:.1f} s) + {head_epoch_s:.2f} s per head epoch "
        f"(timed over {plan.frozen_timed_epochs}); baseline: steady fit rate of the same "
        "frozen model on the PIL decode + augmentation generator. Ours sees "
        f"{cfg.feature_passes} augmented versions of each face, the baseline a fresh one "
        "every epoch"))}


def measure_input_only(inputs: dict[str, Any], plan: Plan) -> dict[str, dict]:
    """What each training input delivers with no model to feed (rounds interleaved)."""
    ours_ds, plain_gen = inputs["ours"]().repeat(), inputs["plain"]()
    ours, plain = [], []
    for _ in range(plan.rounds):
        ours.append(iterate_rate(ours_ds, plan.input_batches, plan.batch_size))
        plain.append(iterate_rate(plain_gen, plan.input_batches, plan.batch_size))
    return {"training_input_only": row(statistics.fmean(ours), statistics.fmean(plain), notes=(
        f"batches of {plan.batch_size} pulled with no model: make_dataset (tf.data, "
        f"parallel map, prefetch) / the PIL generator; {spread(o / p for o, p in zip(ours, plain))}"))}


# ------------------------------------------------------------- gradcam, inference


def measure_gradcam(model: Any, images: np.ndarray, layer: str, name: str) -> dict[str, dict]:
    """class_heatmaps on all images in batches of 32 / on a quarter of them one by one."""
    from backend.explain.heatmaps import class_heatmaps

    x = np.asarray(images)
    classes = np.arange(len(x)) % int(model.outputs[0].shape[-1])
    # One by one is the slow arm: a quarter of the images gives its rate in less time.
    quarter = max(1, len(x) // 4)
    # Warm-up: both pay their one-off costs (imports, cloning, tracing) on one image.
    class_heatmaps(model, x[:1], classes[:1], layer=layer)
    class_heatmaps(model, x[:1], classes[:1], layer=layer, batch_size=1)
    start = time.perf_counter()
    class_heatmaps(model, x[:quarter], classes[:quarter], layer=layer, batch_size=1)
    one_by_one = quarter / (time.perf_counter() - start)
    start = time.perf_counter()
    class_heatmaps(model, x, classes, layer=layer)
    batched = len(x) / (time.perf_counter() - start)
    return {"gradcam": row(batched, one_by_one, target=5.0, notes=(
        f"{name}, layer {layer!r}, GradCAM: class_heatmaps on {len(x)} images (batch 32) / "
        f"the same with batch_size=1 on {quarter}; each call clones the model, as in the "
        f"product"))}


def measure_inference(model: Any, faces: Faces, n: int, size: int, n_classes: int,
                      name: str, batch_size: int) -> dict[str, dict]:
    """model.predict on make_dataset / PIL decode and a model call per image."""
    from backend.data.input_pipeline import make_dataset
    from bench import baselines

    n = min(n, len(faces.labels))
    data = make_dataset(faces.images[:n], faces.labels[:n], n_classes=n_classes,
                        batch_size=batch_size, training=False, image_size=size)
    one = max(2, n // 8)
    # Warm-up: trace predict and the eager call once each.
    model.predict(data.take(1), verbose=0)
    baselines.predict_one_by_one(model, faces.paths[:1], size)
    start = time.perf_counter()
    baselines.predict_one_by_one(model, faces.paths[:one], size)
    plain = one / (time.perf_counter() - start)
    start = time.perf_counter()
    model.predict(data, verbose=0)
    ours = n / (time.perf_counter() - start)
    return {"inference": row(ours, plain, notes=(
        f"{name}: model.predict on make_dataset (images.npy memmap, batch {batch_size}) over "
        f"{n} images / PIL decode + model(x) one image at a time over {one}. The one-off "
        f"decode + crop into images.npy runs at {faces.prepare_rate:.0f} img/s and is not "
        "repeated per epoch or per prediction run"))}


def measure_matmul(repeats: int) -> tuple[float, dict[str, dict]]:
    """float32 and bfloat16 2048 x 2048 matmul GFLOP/s with TensorFlow (and numpy's f32)."""
    from bench.flops import matmul_gflops

    f32 = matmul_gflops(2048, "float32", repeats=repeats)
    numpy_f32 = matmul_gflops(2048, "float32", repeats=repeats, backend="numpy")
    try:
        bf16 = matmul_gflops(2048, "bfloat16", repeats=repeats)
        note = "tf.linalg.matmul 2048 x 2048: bfloat16 / float32"
    except Exception as error:  # noqa: BLE001 - a CPU without a bf16 kernel is a result
        bf16, note = None, f"bfloat16 matmul failed: {type(error).__name__}: {error}"
    flags = _cpu_flags()
    return f32, {"matmul_bf16": row(bf16, f32, unit="GFLOP/s", notes=(
        f"{note}; numpy float32: {numpy_f32:.1f} GFLOP/s; CPU bf16/AMX/AVX-512 flags: "
        f"{', '.join(flags) or 'none'}"))}


def _cpu_flags() -> list[str]:
    """The CPU's bf16-relevant feature flags (Linux), to explain the bf16 number."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = set(text.split("flags", 1)[-1].split("\n", 1)[0].split())
    return sorted(f for f in flags if f.startswith(("avx512_bf16", "amx", "avx512f", "avx2")))


# ------------------------------------------------------------------------- run all


def _stderr_log(started: float) -> Callable[[str], None]:
    """Print a stage name to stderr with the seconds since `started`."""
    return lambda text: print(f"[{time.perf_counter() - started:6.1f} s] {text}",
                              file=sys.stderr, flush=True)


def run(quick: bool = False, data_root: Path | None = None,
        log: Callable[[str], None] | None = None) -> dict:
    """Run every measure; returns {measure: row}, plus '_meta' with the plan and machine."""
    plan = PLANS["quick" if quick else "full"]
    data_root = data_root or Settings.from_env().shared_data
    started = time.perf_counter()
    log = log or _stderr_log(started)
    results: dict[str, dict] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="agerec-speed-") as tmp:
        workdir = Path(tmp)
        # Detection first: its worker processes never need TensorFlow in this one.
        log("face detection ...")
        results.update(measure_detection(data_root, plan.detect_images, workdir))
        results.update(_model_measures(plan, data_root, workdir, log))
    meta = {"plan": asdict(plan), "mode": "quick" if quick else "full",
            "seconds": round(time.perf_counter() - started, 1), "cpu_count": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    return {**results, "_meta": meta}


def _model_measures(plan: Plan, data_root: Path, workdir: Path, log: Callable) -> dict:
    """Every measure that needs TensorFlow and the UTKFace sample."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    log("matmul ...")
    matmul, results = measure_matmul(plan.matmul_repeats)
    utk = data_root / "utkface"
    if not utk.is_dir():
        models = [f"efficientnet_lite0_{plan.image_size}px", "vgg19_64px"]
        names = ["training_input_only", "gradcam", "inference",
                 f"training_frozen_efficientnet_lite0_{plan.image_size}px"] + [
            f"{kind}_{m}" for m in models
            for kind in ("training", "input_pipeline_efficiency", "gflops")]
        return {**results, **{n: skipped(f"UTKFace not found at {utk}") for n in names}}
    from backend.data.classes import scheme_from
    from backend.models.registry import get_backbone
    from bench.flops import train_step_flops

    n_classes = scheme_from(SCHEME).n_classes
    log("preparing UTKFace crops ...")
    # Crops at the model's side, as preprocessing writes them for a run at that size.
    faces = utkface_faces(utk, plan.train_images, plan.image_size, workdir)
    size = plan.image_size
    inputs = training_inputs(faces, plan.batch_size, size, n_classes)
    log("training input only ...")
    results.update(measure_input_only(inputs, plan))
    name = f"efficientnet_lite0_{size}px"
    log(f"training {name} ...")
    model = build("efficientnet_lite0", size, n_classes)
    results.update(measure_training(model, name, inputs, batch_size=plan.batch_size,
                                    rounds=plan.rounds, steps=plan.steps,
                                    flops_per_image=train_step_flops(model), matmul=matmul))
    log(f"training {name} with frozen, cached features ...")
    results.update(measure_frozen_training(faces, plan, n_classes))
    log("gradcam ...")
    results.update(measure_gradcam(model, faces.images[:plan.gradcam_images],
                                   get_backbone("efficientnet_lite0").last_conv_layer, name))
    log("inference ...")
    results.update(measure_inference(model, faces, plan.infer_images, size, n_classes, name,
                                     plan.batch_size))
    if plan.vgg_batch_size:
        # The paper's first backbone, at a size and batch two shared cores can step through.
        log("training vgg19_64px ...")
        vgg = build("vgg19", 64, n_classes)
        results.update(measure_training(
            vgg, "vgg19_64px", training_inputs(faces, plan.vgg_batch_size, 64, n_classes),
            batch_size=plan.vgg_batch_size, rounds=1, steps=plan.steps,
            flops_per_image=train_step_flops(vgg), matmul=matmul))
    else:
        for key in ("training_vgg19_64px", "input_pipeline_efficiency_vgg19_64px"):
            results[key] = skipped("--quick measures EfficientNet-Lite0 only", target=(
                3.0 if key.startswith("training") else 0.9))
        results["gflops_vgg19_64px"] = skipped("--quick measures EfficientNet-Lite0 only",
                                               unit="GFLOP/s")
    results["gflops_resnet152v2"] = skipped(
        "ResNet152V2 is not timed: one training step of batch 32 takes minutes on two "
        "shared CPU cores", unit="GFLOP/s")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--data", type=Path, default=None,
                        help="the shared data folder (default: AGEREC_SHARED_DATA or ../shared/data)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    results = run(quick=args.quick, data_root=args.data)
    print(table(results))
    for name, r in results.items():
        if not name.startswith("_"):
            print(f"\n{name}: {r['notes']}")
    print(f"\n{json.dumps(results['_meta'])}")
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
