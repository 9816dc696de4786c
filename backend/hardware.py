"""What accelerators this machine has, found without importing TensorFlow (seconds
saved at every worker start): the NVIDIA driver's device list under /proc, narrowed
by CUDA_VISIBLE_DEVICES as CUDA narrows it."""
from __future__ import annotations

import os
from pathlib import Path

NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")  # one folder per GPU the driver sees


def gpu_count(environ: dict[str, str] | None = None, devices: Path = NVIDIA_GPUS) -> int:
    """How many GPUs a CUDA program started here would see (0 without a driver)."""
    env = os.environ if environ is None else environ
    try:
        found = sum(1 for entry in devices.iterdir() if entry.is_dir())
    except OSError:  # no driver loaded: no GPU
        return 0
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return found
    # CUDA stops at the first entry that is not a device (e.g. -1, the usual "none").
    count = 0
    for entry in (v.strip() for v in visible.split(",")):
        if not entry or entry.startswith("-"):
            break
        count += 1
    return min(count, found)
