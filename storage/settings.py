"""The one typed settings object, read from AGEREC_* environment variables.

Every variable goes through one strict parser here: a value that is not allowed stops
the program at start with a `SettingsError` naming the variable, its value and what it
may be, rather than being read as a default (`AGEREC_READ_ONLY=enabled` must never give a
writable dashboard).
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from storage.errors import StorageError

# The real face data sits beside the repository (../shared/data), wherever agerec runs from.
DEFAULT_SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000  # a 40 Mpx photo decodes to 120 MB of RGB

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


class SettingsError(StorageError, ValueError):
    """An AGEREC_* variable holds a value that is not allowed."""

    def __init__(self, name: str, value: str, allowed: str):
        self.name, self.value, self.allowed = name, value, allowed
        super().__init__(f"the environment variable {name}={value!r} is not allowed: it must "
                         f"be {allowed}")


def parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """`name` as a boolean: 1/true/yes/on or 0/false/no/off in any case; unset or empty
    is `default`; anything else is a SettingsError."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise SettingsError(name, raw, f"one of {'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)}"
                        " (any case)")


def parse_number(env: Mapping[str, str], name: str, default: float, *, kind: type = float,
                 low: float | None = None, low_open: bool = False,
                 high: float | None = None) -> float:
    """`name` as a finite number of `kind` (int or float) >= low (> low with `low_open`)
    and <= high; unset or empty is `default`; anything else is a SettingsError."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    allowed = ("a whole number" if kind is int else "a number") + _bounds(low, low_open, high)
    try:
        value = kind(raw.strip())
    except ValueError:
        raise SettingsError(name, raw, allowed) from None
    if not math.isfinite(value) or (low is not None and (value < low or low_open and value == low)) \
            or (high is not None and value > high):
        raise SettingsError(name, raw, allowed)
    return value


def parse_text(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    """`name` as text without surrounding blanks; unset or empty is `default`."""
    raw = env.get(name)
    return default if raw is None or raw.strip() == "" else raw.strip()


def parse_url(env: Mapping[str, str], name: str, default: str | None, *,
              example: str, sqlalchemy: bool = False) -> str | None:
    """`name` as a URL (scheme://...); unset or empty is `default`. With `sqlalchemy`, it
    must also be one SQLAlchemy can read. A password in a refused value is not shown."""
    raw = parse_text(env, name, None)
    if raw is None:
        return default
    allowed = f"a URL such as {example}"
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", raw):
        raise SettingsError(name, _masked(raw), allowed)
    if sqlalchemy:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(raw)
        except (ArgumentError, ValueError):
            raise SettingsError(name, _masked(raw), allowed) from None
    return raw


def _masked(url: str) -> str:
    """`url` with the password of user:password@ replaced by ***."""
    return re.sub(r"(?<=:)[^:@/]*(?=@)", "***", url)


def parse_path(env: Mapping[str, str], name: str, default: Path) -> Path:
    """`name` as an absolute path (~ expanded, links followed); unset or empty is `default`."""
    raw = parse_text(env, name, None)
    return Path(raw or default).expanduser().resolve()


def parse_paths(env: Mapping[str, str], name: str, default: tuple[Path, ...]) -> tuple[Path, ...]:
    """`name` as a list of absolute paths separated by os.pathsep (':' on Linux); unset or
    empty is `default`; a relative entry is a SettingsError (it would depend on the cwd)."""
    raw = parse_text(env, name, None)
    if raw is None:
        return default
    parts = [part.strip() for part in raw.split(os.pathsep) if part.strip()]
    relative = [part for part in parts if not Path(part).expanduser().is_absolute()]
    if not parts or relative:
        raise SettingsError(name, raw, f"absolute folder paths separated by {os.pathsep!r}")
    return tuple(dict.fromkeys(Path(part).expanduser().resolve() for part in parts))


def _bounds(low: float | None, low_open: bool, high: float | None) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"<= {high:g}")
    return " " + " and ".join(parts) if parts else ""


@dataclass(frozen=True)
class Settings:
    """Where agerec keeps its data, and which services it talks to."""

    home: Path  # AGEREC_HOME: crops, arrays, models and figures all live under it
    database_url: str  # AGEREC_DATABASE_URL: SQLite under home unless set
    broker_url: str | None  # AGEREC_BROKER_URL: None runs jobs in the embedded local runner
    read_only: bool  # AGEREC_READ_ONLY: hide every launch, cancel and retry control
    shared_data: Path  # AGEREC_SHARED_DATA: the real face datasets for tests and benchmarks
    heartbeat_seconds: float = 5.0  # AGEREC_HEARTBEAT_SECONDS: how often a running job says it is alive
    heartbeat_timeout: float = 120.0  # AGEREC_HEARTBEAT_TIMEOUT: silence after which a job is "worker lost"
    queue: str = "agerec"  # AGEREC_QUEUE: the broker queue jobs are sent to and workers consume
    max_attempts: int = 3  # AGEREC_MAX_ATTEMPTS: starts of one queued job before it is given up
    dashboard_dispatch: bool = True  # AGEREC_DASHBOARD_DISPATCH: off = the dashboard only queues jobs
    runner_idle_exit: float = 600.0  # AGEREC_RUNNER_IDLE_EXIT: seconds an idle local runner waits
    # AGEREC_DATA_ROOTS: the only folders outside home the dashboard shows files from;
    # empty means the shared-data folder.
    data_roots: tuple[Path, ...] = field(default=())
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS  # AGEREC_MAX_IMAGE_PIXELS: larger photos are skipped
    try_idle_exit: float = 1800.0  # AGEREC_TRY_IDLE_EXIT: seconds the try-it service keeps models loaded unused

    def __post_init__(self):
        if not self.data_roots:
            object.__setattr__(self, "data_roots", (self.shared_data,))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read the settings from `environ` (default: the process environment);
        SettingsError names the first variable whose value is not allowed."""
        env = os.environ if environ is None else environ
        home = parse_path(env, "AGEREC_HOME", Path("./var"))
        shared = parse_path(env, "AGEREC_SHARED_DATA", DEFAULT_SHARED_DATA)
        heartbeat = parse_number(env, "AGEREC_HEARTBEAT_SECONDS", 5.0, low=0, low_open=True)
        timeout = parse_number(env, "AGEREC_HEARTBEAT_TIMEOUT", 120.0, low=0, low_open=True)
        if timeout <= heartbeat:
            # Every running job would look silent between two of its own heartbeats.
            raise SettingsError("AGEREC_HEARTBEAT_TIMEOUT", env.get("AGEREC_HEARTBEAT_TIMEOUT")
                                or str(timeout), f"a number of seconds > AGEREC_HEARTBEAT_SECONDS"
                                f" ({heartbeat:g})")
        return cls(
            home=home,
            database_url=parse_url(env, "AGEREC_DATABASE_URL", f"sqlite:///{home / 'agerec.db'}",
                                   example="postgresql://user:PASSWORD@host:5432/agerec",
                                   sqlalchemy=True),
            broker_url=parse_url(env, "AGEREC_BROKER_URL", None,
                                 example="redis://:PASSWORD@host:6379/0"),
            read_only=parse_bool(env, "AGEREC_READ_ONLY", False),
            shared_data=shared,
            heartbeat_seconds=heartbeat,
            heartbeat_timeout=timeout,
            queue=parse_text(env, "AGEREC_QUEUE", "agerec"),
            max_attempts=int(parse_number(env, "AGEREC_MAX_ATTEMPTS", 3, kind=int, low=1)),
            dashboard_dispatch=parse_bool(env, "AGEREC_DASHBOARD_DISPATCH", True),
            runner_idle_exit=parse_number(env, "AGEREC_RUNNER_IDLE_EXIT", 600.0, low=0,
                                          low_open=True),
            data_roots=parse_paths(env, "AGEREC_DATA_ROOTS", (shared,)),
            max_image_pixels=int(parse_number(env, "AGEREC_MAX_IMAGE_PIXELS",
                                              DEFAULT_MAX_IMAGE_PIXELS, kind=int, low=1)),
            try_idle_exit=parse_number(env, "AGEREC_TRY_IDLE_EXIT", 1800.0, low=0,
                                       low_open=True))

    def ensure_home(self) -> Path:
        """Create the home directory if needed and return it."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


ENV_VARS = ("AGEREC_HOME", "AGEREC_DATABASE_URL", "AGEREC_BROKER_URL", "AGEREC_READ_ONLY",
            "AGEREC_SHARED_DATA", "AGEREC_HEARTBEAT_SECONDS", "AGEREC_HEARTBEAT_TIMEOUT",
            "AGEREC_QUEUE", "AGEREC_MAX_ATTEMPTS", "AGEREC_DASHBOARD_DISPATCH",
            "AGEREC_RUNNER_IDLE_EXIT", "AGEREC_DATA_ROOTS", "AGEREC_MAX_IMAGE_PIXELS",
            "AGEREC_TRY_IDLE_EXIT")
