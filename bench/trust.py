"""The benchmark's trust columns: each model's largest gap between groups of people
(UTKFace's race, and gender) with its 95% interval, and its calibration (ECE before and
after the temperature fitted on validation)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

GROUP_COLUMNS = {"gender": "gender", "race": "group_race"}


def natural_groups(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The group labels of the natural test set's faces, by attribute."""
    return {attribute: frame[column].fillna("").astype(str).to_numpy()
            for attribute, column in GROUP_COLUMNS.items() if column in frame.columns}


def largest_gap(m: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(attribute, gap) of the widest of the attributes' largest gaps."""
    gaps = m.get("max_gap") or {}
    if not gaps:
        return None
    return max(gaps.items(), key=lambda item: item[1]["gap"])


def gap_cell(m: dict[str, Any]) -> str:
    """'race 8.1 (2.0-14.3)': points between the worst and best group, 95% interval."""
    found = largest_gap(m)
    if found is None:
        return "—"
    attribute, gap = found
    interval = gap.get("ci95")
    inside = f" ({100 * interval[0]:.1f} to {100 * interval[1]:.1f})" if interval else ""
    return f"{attribute} {100 * gap['gap']:.1f}{inside}"


def ece_cell(m: dict[str, Any]) -> str:
    """'0.081 → 0.032': the ECE as the model says, then after its temperature."""
    if m.get("ece") is None:
        return "—"
    return f"{m['ece']:.3f} → {m['ece_calibrated']:.3f}"


def trust_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown lines: per model and test set, every attribute's largest gap (worst and
    best group with their n) and the calibration with its temperature."""
    lines = ["", "Who it works for and how sure it is (largest gap between groups in points "
             "with its 95% bootstrap interval; ECE over 15 bins, as the model says → after "
             "the temperature fitted on validation):", "",
             "| model | test set | gender gap | race gap | ECE | temperature |",
             "|---|---|---|---|---|---|"]
    for name, row in rows.items():
        for label, m in (("balanced test split", row.get("test") or {}),
                         ("natural set", row.get("natural") or {})):
            if not m:
                continue
            cells = []
            for attribute in ("gender", "race"):
                gap = (m.get("max_gap") or {}).get(attribute)
                groups = (m.get("per_group") or {}).get(attribute) or {}
                if gap is None:
                    cells.append("—")
                    continue
                low, high = gap.get("ci95") or (float("nan"), float("nan"))
                cells.append(f"{100 * gap['gap']:.1f} ({100 * low:.1f} to {100 * high:.1f}): "
                             f"{gap['worst']} n={groups[gap['worst']]['n']} vs {gap['best']} "
                             f"n={groups[gap['best']]['n']}")
            temperature = m.get("temperature")
            lines.append(f"| {name} | {label} | {cells[0]} | {cells[1]} | {ece_cell(m)} | "
                         + ("—" if temperature is None else f"{temperature:.2f}") + " |")
    return lines
