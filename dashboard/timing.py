"""Elapsed time, ETA and heartbeat age of a job, and durations in words."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.jobs import EARLIER_ATTEMPTS


def elapsed_s(job: dict[str, Any], now: datetime) -> float | None:
    """Seconds the job has run, every attempt counted: its earlier attempts (retries and
    redeliveries) and the last one, to its end once finished; None before it starts."""
    earlier = float((job.get("progress") or {}).get(EARLIER_ATTEMPTS) or 0.0)
    if job.get("started_at") is None:
        return earlier or None
    return earlier + ((job.get("finished_at") or now) - job["started_at"]).total_seconds()


def attempt_s(job: dict[str, Any], now: datetime) -> float | None:
    """Seconds of the last attempt only (the pace the ETA is read from)."""
    if job.get("started_at") is None:
        return None
    return ((job.get("finished_at") or now) - job["started_at"]).total_seconds()


def fraction(progress: dict[str, Any] | None) -> float | None:
    """current / total in [0, 1], or None when the job has not reported a total."""
    progress = progress or {}
    current, total = progress.get("current"), progress.get("total")
    if current is None or not total:
        return None
    return min(max(float(current) / float(total), 0.0), 1.0)


def eta_s(job: dict[str, Any], now: datetime) -> float | None:
    """Seconds left at the average pace so far, for a running job with some progress."""
    done, spent = fraction(job.get("progress")), attempt_s(job, now)
    if job.get("status") != "running" or not done or spent is None:
        return None
    return spent * (1.0 - done) / done


def heartbeat_age_s(job: dict[str, Any], now: datetime) -> float | None:
    """Seconds since the job's worker last said it was alive."""
    beat = job.get("heartbeat_at")
    return None if beat is None else (now - beat).total_seconds()


def human(seconds: float | None) -> str:
    """'2 h 05 min', '3 min 07 s', '12 s', or '—' for unknown."""
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
