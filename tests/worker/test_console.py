"""Tests of the command line's output conventions."""
import io
import json

from worker.console import Console


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
