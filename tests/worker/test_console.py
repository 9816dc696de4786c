"""Tests of the command line's output conventions."""
import io
import json
import os

import pytest

from worker.cli import build_parser
from worker.console import Console, configure_logging


def test_json_mode_prints_exactly_one_object():
    """Check that --json output is a single JSON object on stdout and progress goes to stderr."""
    out, err = io.StringIO(), io.StringIO()
    console = Console(True, out=out, err=err)
    console.progress(1, 4, "detect")
    console.result({"dataset_id": 3}, "ignored text")
    assert json.loads(out.getvalue()) == {"dataset_id": 3}
    assert out.getvalue().count("\n") == 1
    assert "[detect] 1/4" in err.getvalue()


def test_progress_is_throttled_within_a_stage():
    """Check that rapid updates of one stage print once, but the final one always prints."""
    err = io.StringIO()
    console = Console(False, out=io.StringIO(), err=err, min_interval=60)
    for i in range(1, 10):
        console.progress(i, 10, "detect")
    console.progress(10, 10, "detect")
    assert err.getvalue().splitlines() == ["[detect] 1/10 ( 10.0%)", "[detect] 10/10 (100.0%)"]


def test_error_in_json_mode_is_an_object_with_the_message():
    """Check that a failure under --json is still one JSON object naming the error."""
    out = io.StringIO()
    Console(True, out=out, err=io.StringIO()).error(ValueError("bad 'source'"))
    assert json.loads(out.getvalue()) == {"error": "bad 'source'", "type": "ValueError"}


def test_quiet_logging_silences_tensorflow_start_up_unless_the_user_chose(monkeypatch):
    """Check that logging without --verbose sets TF_CPP_MIN_LOG_LEVEL=2, keeps a value the
    user set, and with --verbose leaves TensorFlow's own default."""
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    configure_logging(verbose=True)
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    configure_logging(verbose=False)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    configure_logging(verbose=False)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"


@pytest.mark.parametrize("argv, verbose", [(["-v", "datasets", "list"], True),
                                           (["datasets", "list", "--verbose"], True),
                                           (["datasets", "list"], False)])
def test_verbose_may_come_before_or_after_the_subcommand(argv, verbose):
    """Check that --verbose is read wherever it is given, and is off when absent."""
    assert build_parser().parse_args(argv).verbose is verbose
