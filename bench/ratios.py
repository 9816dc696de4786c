"""Speed results as ratios: ours against a baseline measured in the same run, with
a target and the notes that say what each arm did. Shared by bench/speed.py and the
README table of bench/run.py."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def row(ours: float | None, baseline: float | None, *, unit: str = "img/s",
        target: float | None = None, notes: str = "") -> dict[str, Any]:
    """One result: ours, the baseline, ours / baseline and whether the target is met."""
    ratio = ours / baseline if ours is not None and baseline else None
    met = None if target is None or ratio is None else bool(ratio >= target)
    return {"ours": _round(ours), "baseline": _round(baseline), "ratio": _round(ratio),
            "unit": unit, "target": target, "met": met, "notes": notes}


def skipped(reason: str, *, unit: str = "img/s", target: float | None = None) -> dict[str, Any]:
    """A result that could not be measured, with the reason."""
    return {**row(None, None, unit=unit, target=target), "notes": f"skipped: {reason}"}


def steady_rate(stamps: list[float], batch_size: int) -> float:
    """Images per second between the first and the last of successive batch-end times."""
    # The first stamp closes the untimed step; each later one closes a timed step.
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        raise ValueError("need at least two increasing batch-end times")
    return batch_size * (len(stamps) - 1) / (stamps[-1] - stamps[0])


def spread(ratios: Iterable[float]) -> str:
    """'a-b over n rounds' for the notes: how much a ratio moved between rounds."""
    ratios = list(ratios)
    return f"per-round ratio {min(ratios):.2f}-{max(ratios):.2f} over {len(ratios)} round(s)"


def _round(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.4g}")


def table(results: dict) -> str:
    """The results as a fixed-width text table."""
    header = (f"{'measure':50s} {'ours':>10s} {'baseline':>10s} {'ratio':>7s} {'target':>7s} "
              f"{'met':>5s} unit")
    lines = [header]
    for name, r in results.items():
        if name.startswith("_"):
            continue
        cells = ["-" if r[k] is None else f"{r[k]:.4g}" for k in ("ours", "baseline", "ratio",
                                                                    "target")]
        met = "-" if r["met"] is None else ("yes" if r["met"] else "no")
        lines.append(f"{name:50s} {cells[0]:>10s} {cells[1]:>10s} {cells[2]:>7s} "
                     f"{cells[3]:>7s} {met:>5s} {r['unit']}")
    return "\n".join(lines)
