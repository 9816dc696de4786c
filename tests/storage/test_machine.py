"""Tests of storage/machine.py: worker machines' GPU reports under AGEREC_HOME."""
from __future__ import annotations

from datetime import datetime, timezone

from storage.machine import gpu_present, machines, record_machine


def test_no_report_means_unknown(tmp_path):
    """Check that without any worker report the GPU question has no answer (None)."""
    assert gpu_present(tmp_path) is None


def test_a_gpu_on_any_worker_machine_counts(tmp_path):
    """Check that one GPU machine among CPU-only ones makes gpu_present true."""
    record_machine(tmp_path, 0, host="cpu-box")
    assert gpu_present(tmp_path) is False
    record_machine(tmp_path, 2, host="gpu-box")
    assert gpu_present(tmp_path) is True


def test_a_host_reports_once_newest_first(tmp_path):
    """Check that a host's new report replaces its old one and reports come newest first."""
    record_machine(tmp_path, 1, host="a", when=datetime(2026, 1, 1, tzinfo=timezone.utc))
    record_machine(tmp_path, 0, host="b", when=datetime(2026, 1, 2, tzinfo=timezone.utc))
    record_machine(tmp_path, 0, host="a", when=datetime(2026, 1, 3, tzinfo=timezone.utc))
    assert [(m["host"], m["gpus"]) for m in machines(tmp_path)] == [("a", 0), ("b", 0)]
