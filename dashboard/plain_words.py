"""The results in plain words, for viewers who do not read confusion matrices."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

ONE_OFF_EXPLAINED = (
    "“Within one group” (one-off accuracy) counts a guess as nearly right when it lands in "
    "the age group next to the true one, say 40-59 for someone who is 38. Age groups have "
    "hard edges, so a face near an edge is easy to put one group off; being two or more "
    "groups off is a real mistake.")

PRIOR_EXPLAINED = (
    "The model learned from equal numbers of faces in every age group, but in the population "
    "some age groups are far more common than others; the correction tells the model how "
    "common each group is, so a face that could belong to either of two groups goes to the "
    "more common one, and more faces come out right overall while the rarest groups are "
    "found a little less often.")


def in_n(fraction: float, n: int = 100) -> int:
    """A fraction as a whole count out of n (0.759 -> 76 in 100): every figure in words
    is out of 100, so 75.9% never reads as "8 in 10"."""
    return int(round(fraction * n))


def group_width(edges: Sequence[int]) -> int | None:
    """The usual width in years of the age groups (20 for the paper's), or None."""
    widths = [hi - lo for lo, hi in zip(edges[:-1], edges[1:])]
    if not widths:
        return None
    width, count = Counter(widths).most_common(1)[0]
    # One odd group (1-19 is 19 years wide) still reads as "20-year groups".
    return width if count >= len(widths) - 1 else None


def headline(accuracy: float, one_off: float | None, width: int | None) -> str:
    """'70 in 100 faces put in the right 20-year group; 98 in 100 within one group.'"""
    group = f"{width}-year age group" if width else "age group"
    text = f"{in_n(accuracy, 100)} in 100 faces are put in the right {group}"
    if one_off is not None:
        text += f"; {in_n(one_off, 100)} in 100 land in it or the group next to it"
    return text + "."


def weakest_pair(matrix: Sequence[Sequence[float]]) -> tuple[int, int, float, float] | None:
    """The two classes confused most often with each other: (i, j, mistakes between them,
    their share of the two classes' images), from the largest off-diagonal pair."""
    best = None
    for i in range(len(matrix)):
        for j in range(i + 1, len(matrix)):
            mixed = float(matrix[i][j]) + float(matrix[j][i])
            if mixed > 0 and (best is None or mixed > best[2]):
                total = float(sum(matrix[i])) + float(sum(matrix[j]))
                best = (i, j, mixed, mixed / total if total else 0.0)
    return best


def weakest_pair_sentence(matrix: Sequence[Sequence[float]], labels: Sequence[str]) -> str | None:
    pair = weakest_pair(matrix)
    if pair is None:
        return None
    i, j, mixed, share = pair
    return (f"The model mixes up {labels[i]} and {labels[j]} most often: {mixed:.0f} faces "
            f"(about {in_n(share, 100)} in 100 of these two groups) were put in the other one.")


def greyscale_sentence(accuracy: float | None, grey: float | None) -> str | None:
    if accuracy is None or grey is None:
        return None
    if grey < accuracy - 0.005:
        return (f"Black-and-white photos are harder: {in_n(grey, 100)} in 100 are placed right, "
                f"against {in_n(accuracy, 100)} in 100 in colour.")
    return (f"Black-and-white photos are placed about as well as colour ones "
            f"({in_n(grey, 100)} in 100).")


def gender_sentence(per_gender: Mapping[str, float | None] | None) -> str | None:
    men, women = (per_gender or {}).get("M"), (per_gender or {}).get("F")
    if men is None or women is None:
        return None
    return (f"Men's ages are placed right {in_n(men, 100)} times in 100, "
            f"women's {in_n(women, 100)} times in 100.")


def example_sentence(item: Mapping[str, Any], labels: Sequence[str]) -> str:
    """One sentence on one GradCAM example: what it is, what the model said, and how sure."""
    true, pred = int(item["true"]), int(item["pred"])
    label = (lambda k: labels[k] if k < len(labels) else f"class {k}")
    probs = item.get("probs")
    sure = f" ({in_n(float(probs[pred]), 100)}% sure)" if probs is not None and len(probs) > pred else ""
    photo = "A black-and-white photo" if item.get("colour") == "grey" else "A photo"
    if true == pred:
        said = f"of someone aged {label(true)}, placed correctly{sure}"
    else:
        said = f"of someone aged {label(true)}, taken for {label(pred)}{sure}"
    return (f"{photo} {said}; {item.get('model', 'the model')} looked hardest at the yellow "
            f"areas.")


def mix_sentences(as_trained: dict[str, Any], corrected: dict[str, Any] | None) -> list[str]:
    """The model as trained (balanced classes) and, when evaluated, corrected for the
    population's age mix: one sentence each, with the number of test faces behind it.

    `as_trained` holds the test scope's metrics; `corrected` a target-prior scope's.
    """
    n = f"{as_trained.get('n') or 0:.0f} test faces"
    out = [f"As trained (balanced classes): {in_n(as_trained['accuracy'], 100)} in 100 faces "
           f"are put in the right age group on a test set that, like the training data, "
           f"holds about as many faces of each age group ({n})."]
    if corrected and corrected.get("population_accuracy") is not None:
        out.append(
            f"For the population's age mix: {in_n(corrected['population_accuracy'], 100)} in "
            f"100 faces are put in the right age group when each group is as common as in the "
            f"population, against {in_n(corrected['as_trained_population_accuracy'], 100)} in "
            f"100 without the correction (the same {n}, each group counted by its share of "
            f"the population).")
    return out
