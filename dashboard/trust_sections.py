"""The trust sections the Results, Compare and Present pages share: the intervals of
the headline numbers, "Who it works for", "How sure it is", and whether each run is
really better than a baseline."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, trust_charts, trust_words

PER_ROW = 2


def intervals_caption(m: Mapping[str, Any]) -> str | None:
    """'95% intervals ... of the 784 test faces: accuracy 76.1% ± 3.0, ...'."""
    parts = [f"{label} {trust_words.plus_minus(m.get(key), m.get(interval))}"
             for label, key, interval in (("accuracy", "accuracy", "accuracy_ci95"),
                                          ("one-off", "one_off_accuracy", "one_off_ci95"),
                                          ("balanced accuracy", "balanced_accuracy",
                                           "balanced_accuracy_ci95"))
             if m.get(interval)]
    if not parts:
        return None
    return (f"95% intervals (1,000 bootstrap resamples of the {m.get('n') or 0:.0f} test "
            f"faces): " + ", ".join(parts) + ".")


def group_table(m: Mapping[str, Any]) -> pd.DataFrame:
    """One row per group: attribute, group, accuracy ± and one-off ± (in %), the mean of
    its per-class accuracies (its age mix taken out), n."""
    rows = []
    for attribute, groups in (m.get("per_group") or {}).items():
        for group, r in groups.items():
            rows.append({"attribute": attribute,
                         "group": trust_words.group_label(attribute, group),
                         "accuracy": trust_words.plus_minus(r["accuracy"], r.get("ci95")),
                         "one-off": trust_words.plus_minus(r["one_off_accuracy"],
                                                           r.get("one_off_ci95")),
                         "averaged over age groups": trust_words.pct(
                             r.get("balanced_accuracy"), 1),
                         "n": r["n"]})
    return pd.DataFrame(rows, columns=["attribute", "group", "accuracy", "one-off",
                                       "averaged over age groups", "n"])


def who_ui(m: Mapping[str, Any], labels: Sequence[str], *, key: str,
           table: bool = False) -> tuple[list[str], list]:
    """'Who it works for': sentences and per-group bars with intervals; returns both."""
    st.subheader("Who it works for")
    sentences = trust_words.who_sentences(m, labels)
    for sentence in sentences:
        st.markdown(f"- {sentence}")
    figures = [trust_charts.group_bars(attribute, groups, m.get("accuracy"))
               for attribute, groups in (m.get("per_group") or {}).items()]
    if not figures:
        st.info("No group labels for these faces (gender, race or a manifest's extra "
                "columns); evaluate the run again to compute per-group results.")
    for start in range(0, len(figures), PER_ROW):
        for col, (i, fig) in zip(st.columns(PER_ROW), enumerate(figures[start:start + PER_ROW],
                                                                  start)):
            col.plotly_chart(fig, key=f"{key}-group-{i}")
    if table and figures:
        with st.expander("Every group, with its n", expanded=False):
            st.dataframe(group_table(m), hide_index=True)
    return sentences, figures


def how_sure_ui(m: Mapping[str, Any], *, key: str,
                coverage: bool = True) -> tuple[str | None, list]:
    """'How sure it is': one sentence, the reliability diagram and (optionally) the
    coverage-accuracy curve; returns the sentence and the figures."""
    st.subheader("How sure it is")
    sentence = trust_words.how_sure_sentence(m)
    calibration = m.get("calibration")
    if sentence is None or not calibration:
        st.info("No calibration for this evaluation yet: evaluate the run again "
                f"(agerec evaluate --run-id ...) to fit its temperature and measure it.")
        return None, []
    st.markdown(sentence)
    figures = [trust_charts.reliability_diagram(calibration)]
    if coverage:
        figures.append(trust_charts.coverage_chart(calibration))
    for col, (i, fig) in zip(st.columns(len(figures)), enumerate(figures)):
        col.plotly_chart(fig, key=f"{key}-sure-{i}")
    return sentence, figures


def significance_table(names: Mapping[int, str], compared: Mapping[str, Any],
                       metrics: Mapping[int, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run against the baseline: accuracy ±, the paired difference and its
    interval, McNemar's p, the verdict and n."""
    rows = []
    for pair in compared["pairs"]:
        m = metrics.get(pair["run"]) or {}
        interval = pair.get("ci95")
        rows.append({"run": names.get(pair["run"], f"#{pair['run']}"),
                     "accuracy": trust_words.plus_minus(pair["accuracy"],
                                                        m.get("accuracy_ci95")),
                     "difference (points)": f"{100 * pair['accuracy_diff']:+.1f}",
                     "95% interval": (f"{100 * interval[0]:+.1f} to {100 * interval[1]:+.1f}"
                                      if interval else "—"),
                     "McNemar p": f"{pair['p_value']:.2g}", "verdict": pair["verdict"],
                     "n": pair["n"]})
    return pd.DataFrame(rows)


def significance_ui(run_ids: Sequence[int], names: Mapping[int, str],
                    metrics: Mapping[int, Mapping[str, Any]]) -> None:
    """Is each run really better than the chosen baseline, on the same test faces?"""
    from backend.evaluation.significance import DifferentFacesError, compare_runs

    st.subheader("Is the difference real?")
    if len(run_ids) < 2:
        st.info("Choose at least two runs to test their difference.")
        return
    baseline = st.selectbox("Baseline run", list(run_ids), format_func=names.get,
                            key="compare-significance-baseline")
    frames = {run_id: data.predictions(data.key(), run_id) for run_id in
              [baseline, *[r for r in run_ids if r != baseline]]}
    missing = [names[r] for r, frame in frames.items() if frame is None]
    if missing:
        st.warning(f"No per-face predictions for {', '.join(missing)}: evaluate them first.")
        return
    try:
        compared = compare_runs(frames)
    except DifferentFacesError as exc:
        st.warning(f"These runs cannot be compared face by face: {exc}.")
        return
    for pair in compared["pairs"]:
        st.markdown("- " + trust_words.compare_sentence(names[pair["run"]], names[baseline],
                                                        pair))
    st.table(significance_table(names, compared, metrics).set_index("run"))
    st.caption("Paired on the same test faces: the difference's 95% interval comes from "
               "1,000 bootstrap resamples of the faces, McNemar's exact test counts the faces "
               "only one of the two gets right. 'Better' only when the interval excludes 0.")


def report_sections(who: tuple[list[str], list], sure: tuple[str | None, list],
                    members: Sequence[str] = ()) -> list:
    """The report's "Who it works for" and "How sure it is" sections, from what who_ui
    and how_sure_ui returned, and for an ensemble whether it beats its members."""
    from dashboard.report import Section

    sentences, group_figures = who
    sentence, sure_figures = sure
    return [Section("Who it works for", tuple(sentences) or
                    ("No group labels for these faces.",), figures=tuple(group_figures)),
            Section("How sure it is", (sentence or "No calibration measured for this run.",),
                    figures=tuple(sure_figures)),
            *([Section("Is the ensemble better than its members?", tuple(members))]
              if members else [])]


def members_ui(run: Mapping[str, Any]) -> list[str]:
    """For an ensemble: is it really better than each of its members, on the same test
    faces? One sentence each ('better' only when the interval excludes 0); returns them."""
    from backend.evaluation.significance import DifferentFacesError, compare_runs

    if not run.get("members"):
        return []
    st.subheader("Is the ensemble better than its members?")
    k = data.key()
    mine = data.predictions(k, run["id"])
    sentences = []
    for member in run["members"]:
        name = f"#{member} {data.run(k, member)['name']}"
        theirs = data.predictions(k, member)
        if mine is None or theirs is None:
            sentences.append(f"The ensemble and {name} cannot be compared face by face: one "
                             "of them has no per-face predictions.")
            continue
        try:
            pair = compare_runs({member: theirs, run["id"]: mine})["pairs"][0]
        except DifferentFacesError as exc:
            sentences.append(f"The ensemble and {name} cannot be compared face by face: {exc}.")
            continue
        sentences.append(trust_words.compare_sentence("the ensemble", name, pair))
    for sentence in sentences:
        st.markdown(f"- {sentence}")
    return sentences
