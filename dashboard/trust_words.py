"""Trust in plain words: who the model works for, how sure it is, and whether one run
is really better than another. Every sentence carries the n behind its numbers."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

GENDER_NAMES = {"M": "men", "F": "women"}
SURE_AT = 0.9  # the confidence the "how sure" sentence quotes
TRUSTWORTHY_ECE = 0.05  # below this the confidence can be taken at its word


def pct(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def half(interval: Sequence[float] | None) -> float | None:
    """Half the width of a 95% interval, in points: the x of '± x'."""
    if not interval or len(interval) != 2 or None in interval:
        return None
    return 100 * (interval[1] - interval[0]) / 2


def plus_minus(value: float | None, interval: Sequence[float] | None, digits: int = 1) -> str:
    """'76.1% ± 3.0' (the interval's half width, in points), or '76.1%' without one."""
    if value is None:
        return "—"
    width = half(interval)
    text = f"{100 * value:.{digits}f}%"
    return text if width is None else f"{text} ± {width:.{digits}f}"


def group_label(attribute: str, group: str) -> str:
    """How a group reads: 'women' for gender F, 'Asian' for race, 'skin_tone II'."""
    if group == "unknown":
        return f"{attribute} not labelled"
    if attribute == "gender":
        return GENDER_NAMES.get(group, group)
    if attribute == "race":
        return group if group != "Others" else "other races"
    return f"{attribute.replace('_', ' ')} {group}"


def gap_sentence(attribute: str, gap: Mapping[str, Any],
                 groups: Mapping[str, Mapping[str, Any]]) -> str:
    """One sentence on the largest gap of an attribute: a difference only when its
    interval excludes 0, else 'about as accurate ... within noise'."""
    worst, best = groups[gap["worst"]], groups[gap["best"]]
    worst_name, best_name = group_label(attribute, gap["worst"]), group_label(attribute, gap["best"])
    interval = gap.get("ci95")
    points = 100 * gap["gap"]
    if interval and interval[0] > 0:
        return (f"It is less accurate for {worst_name} than for {best_name}: "
                f"{plus_minus(worst['accuracy'], worst.get('ci95'), 0)} (n={worst['n']}) against "
                f"{plus_minus(best['accuracy'], best.get('ci95'), 0)} (n={best['n']}), a "
                f"difference of {points:.1f} points (95% interval {100 * interval[0]:.1f} to "
                f"{100 * interval[1]:.1f})." + age_mix_note(worst, best))
    return (f"It is about as accurate for {worst_name} as for {best_name} (difference "
            f"{points:.1f} points, within noise; n={worst['n']} and n={best['n']}).")


def age_mix_note(worst: Mapping[str, Any], best: Mapping[str, Any]) -> str:
    """Groups differ in age mix, and some age groups are harder: each group's accuracy
    averaged over age groups, so the reader can tell age from the group itself."""
    if worst.get("balanced_accuracy") is None or best.get("balanced_accuracy") is None:
        return ""
    return (f" Part of a gap can be age, since the groups' ages differ: averaged over age "
            f"groups they are at {pct(worst['balanced_accuracy'])} and "
            f"{pct(best['balanced_accuracy'])}.")


def age_sentence(m: Mapping[str, Any], labels: Sequence[str]) -> str | None:
    """The weakest age group against the whole test set: 'less accurate' only when the
    group's interval lies below the overall accuracy."""
    per_class = m.get("per_class_accuracy") or []
    intervals = m.get("per_class_ci95") or [None] * len(per_class)
    counts = m.get("per_class_n") or [sum(r) for r in m.get("confusion_matrix") or []]
    known = [(acc, i) for i, acc in enumerate(per_class) if acc is not None]
    if not known or m.get("accuracy") is None or len(counts) < len(per_class):
        return None
    acc, i = min(known)
    label = labels[i] if i < len(labels) else f"class {i}"
    overall = (f"{plus_minus(m['accuracy'], m.get('accuracy_ci95'), 0)} over all "
               f"{m.get('n') or sum(counts):.0f} test faces")
    interval = intervals[i] if i < len(intervals) else None
    if interval and interval[1] < m["accuracy"]:
        return (f"It is less accurate for people aged {label}: "
                f"{plus_minus(acc, interval, 0)} (n={counts[i]}), against {overall}.")
    return (f"No age group is clearly less accurate than the rest: the weakest, {label}, is "
            f"{plus_minus(acc, interval, 0)} (n={counts[i]}), against {overall}.")


def who_sentences(m: Mapping[str, Any], labels: Sequence[str]) -> list[str]:
    """'Who it works for': the age sentence, then one per labelled attribute."""
    out = [s for s in (age_sentence(m, labels),) if s]
    gaps = m.get("max_gap") or {}
    for attribute, groups in (m.get("per_group") or {}).items():
        if attribute in gaps:
            out.append(gap_sentence(attribute, gaps[attribute], groups))
        else:
            known = {g: r for g, r in groups.items() if g != "unknown"}
            if known:
                fewest = min(r["n"] for r in known.values())
                out.append(f"Too few faces to compare {attribute.replace('_', ' ')} groups "
                           f"(the smallest has n={fewest}; 20 are needed).")
    return out


def how_sure_sentence(m: Mapping[str, Any]) -> str | None:
    """'How sure it is': how often it is right when it says it is 90% sure, and how far
    its stated confidence is off (the ECE) before and after calibration."""
    calibration = m.get("calibration") or {}
    if m.get("ece") is None or not calibration:
        return None
    n = calibration.get("n") or m.get("n") or 0
    point = next((c for c in calibration.get("coverage") or []
                  if abs(c["threshold"] - SURE_AT) < 1e-9), None)
    sure = ""
    if point and point["n"]:
        sure = (f"When it is {pct(SURE_AT)} sure or more, it is right {pct(point['accuracy'])} "
                f"of the time (n={point['n']} of {n:.0f} test faces). ")
    elif point is not None:
        sure = f"It is never {pct(SURE_AT)} sure of a face (n={n:.0f} test faces). "
    after = m.get("ece_calibrated")
    verdict = ("so its confidence can be taken at its word" if after is not None
               and after < TRUSTWORTHY_ECE else "so treat its confidence as a rough guide")
    return (sure + f"Its stated confidence is off by {100 * m['ece']:.1f} points on average, "
            f"{100 * after:.1f} after the calibration fitted on validation faces (temperature "
            f"{m.get('temperature', 1.0):.2f}), {verdict}.")


def compare_sentence(name: str, baseline: str, pair: Mapping[str, Any]) -> str:
    """'better' only when the interval of the difference excludes 0."""
    interval = pair.get("ci95")
    diff = 100 * (pair.get("accuracy_diff") or 0.0)
    stats = (f"{diff:+.1f} points, 95% interval "
             + (f"{100 * interval[0]:+.1f} to {100 * interval[1]:+.1f}" if interval else "—")
             + f", McNemar p = {pair['p_value']:.2g}, n = {pair['n']} faces")
    if pair.get("verdict") in ("better", "worse"):
        text = f"{name} is {pair['verdict']} than {baseline} ({stats})."
        return text[0].upper() + text[1:]
    return f"No clear difference between {name} and {baseline} ({stats})."
