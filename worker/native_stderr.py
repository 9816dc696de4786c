"""TensorFlow's C++ start-up lines, kept off the command line's stderr.

This TensorFlow logs through absl before absl's logging is initialised, so
TF_CPP_MIN_LOG_LEVEL does not reach the lines every command used to print: the
"All log messages before absl::InitializeLog()" banner, "oneDNN custom operations are
on", "Could not find cuda drivers" and "failed call to cuInit". They come from C++
straight to file descriptor 2, so the filter sits there: fd 2 becomes a pipe whose
reader passes everything on except those lines (info and warning lines in absl's
format, and the CUDA start-up errors). Python's own logs and progress lines pass
unchanged; a partial line (a progress line ending in a carriage return) is passed on
at once unless it starts like an absl line.
"""
from __future__ import annotations

import atexit
import os
import re
import threading

# absl's line prefix after its severity letter: mmdd, time (before absl is initialised
# it reads 00:00:<epoch seconds>), thread id, file:line]
_ABSL = rb"\d{4} [\d:.]+\s+\d+ [^\]\s]+:\d+\] "
NOISE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IW]" + _ABSL + rb"|E" + _ABSL + rb".*(cuInit|Unable to register cu"
    rb"|cuda_(dnn|fft|blas|platform)))")
_MAYBE_NOISE = re.compile(rb"^(W|WA|WAR|WARN|WARNI|WARNIN|WARNING|WARNING:.*|[IWEF]\d.*)$")
_installed: list[int] = []  # the saved real stderr, once installed


def is_noise(line: bytes) -> bool:
    """Whether a whole line (with or without its newline) is start-up noise."""
    return bool(NOISE.match(line))


def passed_on(buffer: bytes, *, final: bool = False) -> tuple[bytes, bytes]:
    """(what to write now, what to keep) of `buffer`: whole lines that are not noise,
    and a trailing partial line unless it may still become one (all of it at `final`)."""
    lines = buffer.split(b"\n")
    rest = lines.pop()
    out = b"".join(line + b"\n" for line in lines if not is_noise(line))
    if final or (rest and not _MAYBE_NOISE.match(rest)):
        out += b"" if is_noise(rest) else rest
        rest = b""
    return out, rest


def filter_native_stderr() -> None:
    """Route this process's fd 2 through the filter (once per process; the real stderr
    is put back and the filter drained at exit)."""
    if _installed:
        return
    real = os.dup(2)
    _installed.append(real)
    read_fd, write_fd = os.pipe()
    out = os.dup(2)
    os.dup2(write_fd, 2)
    os.close(write_fd)

    def pump() -> None:
        rest = b""
        while chunk := os.read(read_fd, 65536):
            text, rest = passed_on(rest + chunk)
            if text:
                os.write(out, text)
        text, _ = passed_on(rest, final=True)
        if text:
            os.write(out, text)
        os.close(read_fd)

    thread = threading.Thread(target=pump, name="native-stderr-filter", daemon=True)
    thread.start()

    def restore() -> None:
        import sys

        sys.stderr.flush()
        os.dup2(real, 2)  # the pipe's last writer here closes: the pump reads to its end
        thread.join(timeout=2.0)

    atexit.register(restore)


def stderr_is_tty() -> bool:
    """Whether the real stderr is a terminal (fd 2 is a pipe once the filter is on)."""
    return os.isatty(_installed[0] if _installed else 2)
