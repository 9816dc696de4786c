"""The GPU check on CPU with a tiny config: the script runs end to end and writes its JSON."""
import json

import pytest

from bench import gpu_check

TINY = ["--members", "vgg19", "--images", "12", "--image-size", "32", "--batch", "4",
        "--warmup", "1", "--matmul", "64", "--precision", "float32"]


@pytest.mark.slow
def test_tiny_run_writes_rates_and_flops(tmp_path, capsys):
    """Check that a tiny run on random pixels reports images per second, the achieved
    TFLOP/s from the analytic count, and that no accelerator was used."""
    code = gpu_check.main([*TINY, "--data", str(tmp_path / "absent"),
                           "--out-dir", str(tmp_path)])
    result = json.loads(next(tmp_path.glob("gpu-*.json")).read_text())
    vgg = result["members"]["vgg19"]
    assert code == 0 and result["data"].startswith("random pixels")
    assert vgg["steps"] == 3 and vgg["images_per_s"] > 0
    assert vgg["achieved_tflops"] == pytest.approx(
        vgg["images_per_s"] * vgg["train_step_gflops_per_image"] / 1e3)
    assert result["device"]["accelerator"] is False and result["xla"] is True
    assert "No accelerator" in capsys.readouterr().out


def test_spent_budget_skips_the_members(tmp_path):
    """Check that a member is skipped, with the reason, once the time budget is spent."""
    gpu_check.main([*TINY, "--data", str(tmp_path / "absent"), "--budget-s", "0",
                    "--out-dir", str(tmp_path)])
    result = json.loads(next(tmp_path.glob("gpu-*.json")).read_text())
    assert "budget" in result["members"]["vgg19"]["skipped"]
