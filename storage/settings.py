"""The one typed settings object, read from AGEREC_* environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# The real face data sits beside the repository (../shared/data), wherever agerec runs from.
DEFAULT_SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


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

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        """Read the settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        home = Path(env.get("AGEREC_HOME") or "./var").expanduser().resolve()
        database_url = env.get("AGEREC_DATABASE_URL") or f"sqlite:///{home / 'agerec.db'}"
        broker_url = env.get("AGEREC_BROKER_URL") or None
        read_only = (env.get("AGEREC_READ_ONLY") or "0").strip().lower() in {"1", "true", "yes"}
        shared = Path(env.get("AGEREC_SHARED_DATA") or DEFAULT_SHARED_DATA).expanduser().resolve()
        dispatch = (env.get("AGEREC_DASHBOARD_DISPATCH") or "1").strip().lower()
        return cls(home=home, database_url=database_url, broker_url=broker_url,
                   read_only=read_only, shared_data=shared,
                   heartbeat_seconds=float(env.get("AGEREC_HEARTBEAT_SECONDS") or 5.0),
                   heartbeat_timeout=float(env.get("AGEREC_HEARTBEAT_TIMEOUT") or 120.0),
                   queue=env.get("AGEREC_QUEUE") or "agerec",
                   max_attempts=int(env.get("AGEREC_MAX_ATTEMPTS") or 3),
                   dashboard_dispatch=dispatch not in {"0", "false", "no"},
                   runner_idle_exit=float(env.get("AGEREC_RUNNER_IDLE_EXIT") or 600.0))

    def ensure_home(self) -> Path:
        """Create the home directory if needed and return it."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


ENV_VARS = ("AGEREC_HOME", "AGEREC_DATABASE_URL", "AGEREC_BROKER_URL", "AGEREC_READ_ONLY",
            "AGEREC_SHARED_DATA", "AGEREC_HEARTBEAT_SECONDS", "AGEREC_HEARTBEAT_TIMEOUT",
            "AGEREC_QUEUE", "AGEREC_MAX_ATTEMPTS", "AGEREC_DASHBOARD_DISPATCH",
            "AGEREC_RUNNER_IDLE_EXIT")
