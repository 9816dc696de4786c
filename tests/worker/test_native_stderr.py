"""Tests of worker/native_stderr.py: TensorFlow's C++ start-up lines kept off stderr."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO
from worker.native_stderr import is_noise, passed_on

ONEDNN = (b"I0000 00:00:1796093780.253711   31168 port.cc:153] oneDNN custom operations are on. "
          b"You may see slightly different numerical results.")
CUINIT = (b"E0000 00:00:1796093788.255837   31168 cuda_platform.cc:52] failed call to cuInit: "
          b"INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)")
BANNER = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def test_start_up_lines_are_noise_and_other_errors_are_not():
    """Check that the banner, the oneDNN and the cuInit lines are noise, while another
    C++ error, a Python warning and a progress line are kept."""
    assert all(is_noise(line) for line in (BANNER, ONEDNN, CUINIT))
    kept = (b"E0000 00:00:1.0   1 op_kernel.cc:1] OOM when allocating tensor",
            b"2026-12-01 02:00:00 WARNING worker.x: a real warning", b"[train] 3/10 ( 30.0%)")
    assert not any(is_noise(line) for line in kept)


def test_noise_is_dropped_from_a_stream_and_the_rest_passes_in_order():
    """Check that whole noise lines vanish and the other lines pass unchanged, in order."""
    out, rest = passed_on(BANNER + b"\n" + b"first\n" + ONEDNN + b"\n" + b"second\n")
    assert (out, rest) == (b"first\nsecond\n", b"")


def test_a_partial_progress_line_passes_at_once_but_a_partial_absl_line_waits():
    """Check that '[stage] 1/4\\r' is written without waiting for a newline, while the
    start of an absl line is held until it is whole (and then dropped)."""
    assert passed_on(b"[detect] 1/4 ( 25.0%)\r") == (b"[detect] 1/4 ( 25.0%)\r", b"")
    out, rest = passed_on(ONEDNN[:30])
    assert (out, rest) == (b"", ONEDNN[:30])
    assert passed_on(rest + ONEDNN[30:] + b"\n") == (b"", b"")


@pytest.mark.slow
@pytest.mark.parametrize("flag", ["", "--verbose"])
def test_a_command_leaves_tensorflows_start_up_lines_out_unless_verbose(flag, agerec_home):
    """Check that after agerec's own command line ran, importing and using TensorFlow in
    the same process prints none of its C++ start-up lines on stderr, while later stderr
    text still comes through; with --verbose the lines are there."""
    argv = ["agerec", "datasets", "list"] + ([flag] if flag else [])
    script = ("import sys; from worker.cli import main; sys.argv = %r; main(); "
              "import tensorflow as tf; tf.constant(1.0) + 1; print('after', file=sys.stderr)"
              % argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env,
                          capture_output=True, timeout=300)
    err = done.stderr.decode()
    assert done.returncode == 0 and "after" in err
    noisy = [line for line in err.splitlines() if is_noise(line.encode())]
    assert (noisy != []) is bool(flag), err
