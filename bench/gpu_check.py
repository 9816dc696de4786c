"""The GPU path in one prepared script: one epoch of each `paper` member at 224 px on a
subsample, random weights (`--weights none`), mixed precision and XLA on; images per
second and the TFLOP/s achieved against the device's peak. Under 8 minutes on one GPU.

    python -m bench.gpu_check [--images 2048] [--image-size 224] [--batch 32]
                              [--members vgg19,resnet152v2] [--data UTKFACE_DIR]
                              [--out-dir bench/results] [--budget-s 420]

It needs Keras 3 and one of its backends, not TensorFlow: it imports only the model
builders (`backend.models`, `backend.training.config`) and `bench.flops`. A GPU image
that holds JAX but no Keras takes the Keras wheel and its two small pure-Python needs,
carried as wheels (the device tool's README): here, in the repository root,

    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \\
        --implementation cp --platform manylinux_2_17_x86_64 -d .whl \\
        keras==3.15.1 namex==0.1.0 optree==0.18.0

and there, before this script,
`python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl &&
PYTHONPATH=/tmp/site:. KERAS_BACKEND=jax OUT=$OUT python3 -m bench.gpu_check`.
Under JAX every step is XLA-compiled; under TensorFlow `jit_compile=True` asks for it.

The subsample is UTKFace's (the 200 px aligned crops, resized) when `--data` or the
shared data folder holds it, else seeded random pixels: throughput does not depend on
what the pixels show, and the JSON says which. The first steps of each epoch pay for
compilation; the rate is taken over the steps after `--warmup`. The analytic FLOP count
is bench/flops.py's (conv and dense layers, a training step = 3 forward passes).
Writes bench/results/gpu-<date>.json (and a copy in $OUT when that is set).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# Dense tensor-core peaks in TFLOP/s for 16-bit inputs, from the vendors' datasheets
# (SXM parts; without sparsity). A device not listed is compared with its measured matmul.
DATASHEET_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0,
                    "A10": 125.0, "V100": 125.0, "T4": 65.0}
DEFAULT_MEMBERS = ("vgg19", "resnet152v2")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    result = run(members=args.members.split(","), n_images=args.images,
                 image_size=args.image_size, batch_size=args.batch, data=args.data,
                 precision=args.precision, warmup=args.warmup, matmul_n=args.matmul,
                 budget_s=args.budget_s, seed=args.seed)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"gpu-{dt.date.today().isoformat()}.json"
    path.write_text(json.dumps(result, indent=2))
    if os.environ.get("OUT") and Path(os.environ["OUT"]).is_dir():
        shutil.copy(path, Path(os.environ["OUT"]) / path.name)
    print(summary(result))
    print(f"results: {path}", file=sys.stderr)
    return 0


def run(*, members: list[str], n_images: int, image_size: int, batch_size: int,
        data: str | None, precision: str, warmup: int, matmul_n: int, budget_s: float,
        seed: int = 0) -> dict[str, Any]:
    """Every member's epoch, timed, with the device, its peak and a measured matmul."""
    import keras

    started = time.perf_counter()
    device = device_info()
    images, labels, source = subsample(n_images, image_size, data, seed)
    policy = {"bfloat16": "mixed_bfloat16", "float16": "mixed_float16",
              "float32": "float32"}[precision]
    keras.mixed_precision.set_global_policy(policy)
    try:
        matmul = matmul_tflops(matmul_n, "float32" if precision == "float32" else precision)
        out: dict[str, Any] = {}
        for member in members:
            if time.perf_counter() - started > budget_s:
                out[member] = {"skipped": f"the {budget_s:.0f} s budget was spent first"}
                continue
            out[member] = member_epoch(member, images, labels, image_size, batch_size, warmup,
                                       seed)
            peak = device["datasheet_tflops"]
            for key, ref in (("fraction_of_datasheet_peak", peak),
                             ("fraction_of_measured_matmul", matmul)):
                out[member][key] = (None if not ref or out[member]["achieved_tflops"] is None
                                    else out[member]["achieved_tflops"] / ref)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return {"date": dt.datetime.now(dt.timezone.utc).isoformat(), "host": socket.gethostname(),
            "device": device, "keras_backend": keras.backend.backend(),
            "keras": keras.__version__, "precision": policy, "xla": True,
            "weights": "none", "images": int(len(labels)), "data": source,
            "image_size": image_size, "batch_size": batch_size, "warmup_steps": warmup,
            "matmul_tflops": matmul, "matmul_n": matmul_n, "members": out,
            "wall_s": time.perf_counter() - started}


def member_epoch(member: str, images: np.ndarray, labels: np.ndarray, image_size: int,
                 batch_size: int, warmup: int, seed: int) -> dict[str, Any]:
    """One epoch of `member` under the paper preset (random weights, every layer
    trainable), XLA-compiled: the rate over the steps after `warmup`, and its FLOP/s."""
    import keras

    from backend.models.build import build_model
    from backend.training.config import preset_config
    from bench.flops import forward_flops, train_step_flops

    cfg = preset_config("paper", member, weights="none", image_size=image_size)
    keras.utils.set_random_seed(seed)
    built = time.perf_counter()
    model = build_model(member, int(labels.max()) + 1, image_size, weights="none",
                        saliency=cfg.saliency, head=cfg.head, saliency_cfg=cfg.saliency_cfg)
    for layer in model.layers:
        layer.trainable = True  # random weights: a frozen random layer learns nothing
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate),
                  loss="sparse_categorical_crossentropy", jit_compile=True)
    build_s = time.perf_counter() - built
    times = _step_times()
    t = time.perf_counter()
    model.fit(images, labels, batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
              callbacks=[times])
    epoch_s = time.perf_counter() - t
    steps = len(times.ends)
    timed = steps - 1 - warmup  # intervals after the warm-up steps
    rate = (timed * batch_size / (times.ends[-1] - times.ends[warmup])
            if timed > 0 else None)
    step_flops = train_step_flops(model)
    return {"steps": steps, "build_s": build_s, "epoch_s": epoch_s,
            "first_step_s": times.ends[0] - t if steps else None,
            "images_per_s": rate, "forward_gflops_per_image": forward_flops(model) / 1e9,
            "train_step_gflops_per_image": step_flops / 1e9,
            "achieved_tflops": None if rate is None else rate * step_flops / 1e12,
            "final_loss": times.last_loss}


def _step_times():
    """A Keras callback that reads each step's loss (so an asynchronous backend finishes
    the step) and records when it ended, in `ends`."""
    import keras

    class StepTimes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends: list[float] = []
            self.last_loss: float | None = None

        def on_train_batch_end(self, batch, logs=None):
            self.last_loss = float((logs or {}).get("loss", float("nan")))
            self.ends.append(time.perf_counter())

    return StepTimes()


def subsample(n: int, image_size: int, data: str | None, seed: int
              ) -> tuple[np.ndarray, np.ndarray, str]:
    """n float32 images in [0, 1] at image_size and their 5-class labels: UTKFace's
    crops when the folder is there, else seeded random pixels."""
    rng = np.random.default_rng(seed)
    folder = Path(data) if data else _shared_utkface()
    if folder is not None and folder.is_dir():
        from PIL import Image

        from backend.data.classes import scheme_from
        from backend.data.readers import read_source

        records = read_source("utkface", str(folder)).records
        chosen = rng.choice(len(records), size=min(n, len(records)), replace=False)
        images = np.stack([np.asarray(Image.open(records[i].path).convert("RGB")
                                      .resize((image_size, image_size)), np.float32) / 255.0
                           for i in chosen])
        labels = scheme_from("5").assign(np.array([records[i].age for i in chosen]))
        keep = labels >= 0
        return images[keep], labels[keep].astype(np.int64), f"utkface ({folder})"
    images = rng.random((n, image_size, image_size, 3), dtype=np.float32)
    return images, rng.integers(0, 5, n).astype(np.int64), "random pixels (no UTKFace here)"


def _shared_utkface() -> Path | None:
    try:
        from storage.settings import Settings

        return Settings.from_env().shared_data / "utkface"
    except Exception:  # storage's own needs (SQLAlchemy) may be absent on a GPU image
        return None


def device_info() -> dict[str, Any]:
    """The accelerator Keras's backend sees (name, kind) and its datasheet peak, or the CPU."""
    import keras

    name, kind = None, "cpu"
    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            dev = jax.devices()[0]
            kind, name = dev.platform, getattr(dev, "device_kind", str(dev))
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                kind, name = "gpu", torch.cuda.get_device_name(0)
        else:
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                kind, name = "gpu", details.get("device_name", "GPU")
    except Exception as exc:  # a backend without a device query: say so, measure anyway
        name = f"unknown ({exc})"
    accelerator = kind not in ("cpu",)
    peak = next((v for k, v in DATASHEET_TFLOPS.items() if name and k in name.upper()), None)
    return {"name": name or "CPU", "kind": kind, "accelerator": accelerator,
            "datasheet_tflops": peak if accelerator else None}


def matmul_tflops(n: int, dtype: str, repeats: int = 10) -> float:
    """TFLOP/s of an n x n matmul in `dtype` through Keras's backend: the mean of
    `repeats` products after three warm-ups, each result read back."""
    import keras
    from keras import ops

    a = ops.cast(keras.random.uniform((n, n), seed=0), dtype)
    for _ in range(3):
        np.asarray(ops.convert_to_numpy(ops.cast(ops.sum(ops.matmul(a, a)), "float32")))
    start = time.perf_counter()
    for _ in range(repeats):
        c = ops.matmul(a, a)
    np.asarray(ops.convert_to_numpy(ops.cast(ops.sum(c), "float32")))
    return 2.0 * n ** 3 * repeats / (time.perf_counter() - start) / 1e12


def summary(result: dict[str, Any]) -> str:
    """A few readable lines of the result."""
    dev = result["device"]
    lines = [f"{dev['name']} ({'accelerator' if dev['accelerator'] else 'no accelerator'}), "
             f"Keras {result['keras']} on {result['keras_backend']}, {result['precision']}, XLA; "
             f"{result['images']} images ({result['data']}) at {result['image_size']} px, "
             f"batch {result['batch_size']}; matmul {result['matmul_tflops']:.3g} TFLOP/s"
             + (f", datasheet {dev['datasheet_tflops']:.0f}" if dev["datasheet_tflops"] else "")]
    for name, m in result["members"].items():
        if "skipped" in m:
            lines.append(f"  {name}: skipped ({m['skipped']})")
            continue
        rate = "—" if m["images_per_s"] is None else f"{m['images_per_s']:.1f} img/s"
        tflops = "—" if m["achieved_tflops"] is None else f"{m['achieved_tflops']:.3g} TFLOP/s"
        fracs = [f"{100 * m[key]:.1f}% of the {what}" for key, what in (
            ("fraction_of_datasheet_peak", "datasheet peak"),
            ("fraction_of_measured_matmul", "measured matmul")) if m.get(key) is not None]
        lines.append(f"  {name}: {rate}, {tflops}"
                     + (f" ({', '.join(fracs)})" if fracs else "")
                     + f", epoch {m['epoch_s']:.1f} s (first step {m['first_step_s']:.1f} s)")
    if not dev["accelerator"]:
        lines.append("  No accelerator: these are CPU numbers, not the GPU path's.")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.gpu_check",
                                description=__doc__.split("\n")[0])
    p.add_argument("--members", default=",".join(DEFAULT_MEMBERS),
                   help="paper members, comma-separated (default: vgg19,resnet152v2)")
    p.add_argument("--images", type=int, default=2048, help="images in the subsample")
    p.add_argument("--image-size", type=int, default=224, help="side in pixels (paper: 224)")
    p.add_argument("--batch", type=int, default=32, help="batch size (paper: 32)")
    p.add_argument("--data", help="a UTKFace folder (default: the shared data's, if present)")
    p.add_argument("--precision", default="bfloat16", choices=("bfloat16", "float16", "float32"),
                   help="mixed precision's compute type (float32: off)")
    p.add_argument("--warmup", type=int, default=5, help="steps left out of the rate")
    p.add_argument("--matmul", type=int, default=8192, help="side of the matmul measured")
    p.add_argument("--budget-s", type=float, default=420.0,
                   help="start no member after this many seconds (the script must end < 8 min)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default=str(REPO / "bench" / "results"))
    return p


if __name__ == "__main__":
    sys.exit(main())
