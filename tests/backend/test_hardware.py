"""Tests of backend/hardware.py on a made-up driver folder."""
from __future__ import annotations

from backend.hardware import gpu_count


def _driver(tmp_path, n: int):
    folder = tmp_path / "gpus"
    for i in range(n):
        (folder / f"0000:0{i}:00.0").mkdir(parents=True)
    return folder


def test_no_driver_means_no_gpu(tmp_path):
    """Check that a machine without the NVIDIA driver's folder counts 0 GPUs."""
    assert gpu_count({}, tmp_path / "missing") == 0


def test_every_gpu_the_driver_lists_counts(tmp_path):
    """Check that two devices under the driver's folder count as two GPUs."""
    assert gpu_count({}, _driver(tmp_path, 2)) == 2


def test_cuda_visible_devices_narrows_the_count(tmp_path):
    """Check that CUDA_VISIBLE_DEVICES=1 sees one of two GPUs, and -1 or '' none."""
    devices = _driver(tmp_path, 2)
    assert [gpu_count({"CUDA_VISIBLE_DEVICES": v}, devices) for v in ("1", "-1", "")] == [1, 0, 0]
