"""How every `agerec` subcommand talks: readable text or exactly one JSON object
on stdout, progress on stderr."""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any, TextIO

from worker.native_stderr import stderr_is_tty

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(verbose: bool = False) -> None:
    """Logs on stderr (stdout stays the command's answer): warnings and errors, or with
    `verbose` every info line too, TensorFlow's C++ start-up lines included. Call it
    before TensorFlow is imported: TF_CPP_MIN_LOG_LEVEL is read once, at its start."""
    logging.basicConfig(format=LOG_FORMAT, stream=sys.stderr)  # unless a host set handlers
    logging.getLogger().setLevel(logging.INFO if verbose else logging.WARNING)
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # C++ errors only


class Console:
    """Output for one command invocation; `json_mode` follows the --json flag."""

    def __init__(self, json_mode: bool, *, out: TextIO | None = None, err: TextIO | None = None,
                 min_interval: float = 0.5):
        self.json_mode = json_mode
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.min_interval = min_interval
        self._last: tuple[str, float] = ("", 0.0)
        self._tty = (stderr_is_tty() if err is None
                     else hasattr(self.err, "isatty") and self.err.isatty())

    def progress(self, current: int, total: int, stage: str) -> None:
        """One progress line on stderr, at most every `min_interval` seconds per stage."""
        now = time.monotonic()
        stage_changed = stage != self._last[0]
        done = total > 0 and current >= total
        if not (stage_changed or done or now - self._last[1] >= self.min_interval):
            return
        self._last = (stage, now)
        pct = f" ({100.0 * current / total:5.1f}%)" if total else ""
        line = f"[{stage}] {current}/{total}{pct}"
        end = "\n" if (done or not self._tty) else "\r"
        self.err.write(line + end)
        self.err.flush()

    def info(self, text: str) -> None:
        """A readable note on stderr (never on stdout, so --json stays one object)."""
        self.err.write(text + "\n")
        self.err.flush()

    def result(self, payload: dict[str, Any], text: str) -> None:
        """The command's answer: the JSON object, or the readable text."""
        if self.json_mode:
            self.out.write(json.dumps(payload, default=_jsonable, sort_keys=True) + "\n")
        else:
            self.out.write(text.rstrip("\n") + "\n")
        self.out.flush()

    def error(self, exc: BaseException) -> None:
        """A failure: {"error": ...} on stdout in JSON mode, a message on stderr otherwise."""
        message = str(exc) or exc.__class__.__name__
        if self.json_mode:
            self.out.write(json.dumps({"error": message, "type": exc.__class__.__name__}) + "\n")
            self.out.flush()
        else:
            self.err.write(f"agerec: error: {message}\n")
            self.err.flush()


def _jsonable(value: Any) -> Any:
    """Fallback encoder for paths, datetimes, numpy scalars and arrays."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
