"""Results of one run: headline numbers with their intervals (beside the paper's model
in the same role, in neutral pp, with one caption), per-class accuracy, a confusion matrix
whose cells open their faces, training curves, who it works for, how sure it is, the
paper's Table 1 and the error explorer."""
import streamlit as st

from dashboard import (charts, data, explorer, metrics_table, plain_words, trust_charts,
                       trust_sections, widgets)
from dashboard.paper import TABLE1, comparison_caption, paper_column

HEADLINE = (("Accuracy", "accuracy"), ("One-off accuracy", "one_off_accuracy"))
SCORES = (("Balanced accuracy", "balanced_accuracy"), ("Macro F1", "macro_f1"), ("QWK", "qwk"))


def headline_ui(m: dict, paper: dict | None) -> None:
    """Accuracy and one-off accuracy (beside the paper's model in the same role, in
    neutral pp), then the other scores: three to a row, readable at 800 px."""
    cols = st.columns(3)
    for col, (label, name) in zip(cols, HEADLINE):
        value, ref = m.get(name), (paper or {}).get(name)
        col.metric(label, "—" if value is None else f"{100 * value:.2f}%", delta_color="off",
                   delta=None if value is None or ref is None else
                   f"{100 * (value - ref):+.2f} pp vs paper")
    for col, (label, name) in zip([cols[2], *st.columns(3)[:2]], SCORES):
        value = m.get(name)
        col.metric(label, "—" if value is None else f"{value:.3f}")


def population_ui(run_id: int, m: dict, pm: dict | None, labels: list[str]) -> None:
    """The model as trained (balanced classes) beside the model corrected for the
    population's age mix, when a target-prior evaluation was recorded."""
    st.subheader("As trained, or for the population's age mix")
    st.caption(plain_words.PRIOR_EXPLAINED)
    if pm is None:
        st.info("Not evaluated for the population's age mix yet: run "
                f"`agerec evaluate --run-id {run_id} --target-prior source` (or the Evaluate "
                "form on the Launch page).")
        return
    left, right = st.columns(2)
    left.metric("As trained (balanced classes)", f"{100 * m['accuracy']:.2f}%")
    left.caption(f"on {m['n']:.0f} test images, age groups balanced as in training")
    population, before = pm.get("population_accuracy"), pm.get("as_trained_population_accuracy")
    right.metric("For the population's age mix",
                 "—" if population is None else f"{100 * population:.2f}%", delta_color="off",
                 delta=None if population is None or before is None else
                 f"{100 * (population - before):+.2f} pp vs as trained on this mix")
    weights = (pm.get("target_prior") or {}).get("weights") or []
    mix = ", ".join(f"{widgets.class_name(labels, i)} {100 * w:.0f}%"
                    for i, w in enumerate(weights))
    interval = pm.get("population_accuracy_ci95")
    right.caption(f"on the same {pm['n']:.0f} test images, each age group weighted by its "
                  f"share of the population ({pm['scope'].split('+prior:')[1]}: {mix})"
                  + (f"; 95% interval {100 * interval[0]:.1f}-{100 * interval[1]:.1f}%"
                     if interval else ""))


def confusion_ui(matrix, labels, *, key: str, title: str = "Confusion matrix"):
    """The confusion heatmap with a counts / row-% switch, its cells clickable; returns
    the (true, predicted) cell clicked, or None."""
    mode = st.segmented_control("Show", ["counts", "row %"], default="counts", key=key,
                                required=True)
    normalized = mode == "row %"
    fig = trust_charts.clickable_cells(
        charts.confusion_heatmap(matrix, labels, normalized=normalized, title=title),
        matrix, labels)
    event = st.plotly_chart(fig, key=f"{key}-chart", on_select="rerun",
                            selection_mode="points")
    return trust_charts.selected_cell(event)


def results_ui(run_id: int) -> None:
    k = data.key()
    run, entry = data.run(k, run_id), data.run_entry(k, run_id)
    labels, m = run["labels"], data.metrics(k, run_id, "test")
    if not m:
        st.info(f"Run #{run_id} has no test metrics yet (status: {run['status']}).")
        return
    column = paper_column(run["kind"], run["backbone"])
    paper = TABLE1.get(column) if column else None
    headline_ui(m, paper)
    n = int(m["n"]) if m.get("n") is not None else None
    st.caption(f"{n or 0} test images" + (f". {comparison_caption(entry, column)}"
                                          if column else ""))
    if caption := trust_sections.intervals_caption(m):
        st.caption(caption)
    pm = data.prior_metrics(k, run_id)
    population_ui(run_id, m, pm, labels)
    series = {run["name"]: m.get("per_class_accuracy") or []}
    if pm is not None:
        series["corrected for the population's age mix"] = pm.get("per_class_accuracy") or []
    per_class_n = [sum(row) for row in m.get("confusion_matrix") or []]
    st.plotly_chart(trust_charts.add_intervals(charts.per_class_bars(
        labels, series, n=n, n_per_class=per_class_n,
        reference={f"paper {column}": paper["per_class_accuracy"]} if paper else None),
        run["name"], m.get("per_class_ci95")), key="per-class")
    if paper:
        st.caption(comparison_caption(entry, column))
    cell = None
    if m.get("confusion_matrix"):
        cell = confusion_ui(m["confusion_matrix"], labels, key="confusion")
    history = data.history(k, run_id)
    if history:
        st.plotly_chart(charts.training_curves(history), key="curves")
    elif run["kind"] == "ensemble":
        st.info("No training curves: an ensemble is fitted on its members' predictions, not "
                "trained by epochs (Compare draws its members' curves).")
    else:
        st.info("No training curves: this run has no history.json.")
    gender = m.get("per_gender_accuracy") or {}
    groups = {"men": gender.get("M"), "women": gender.get("F"),
              "greyscale photos": m.get("greyscale_accuracy")}
    st.plotly_chart(trust_charts.add_group_bar_intervals(
        charts.group_accuracy_bars(m.get("accuracy"), groups, n=n), m), key="groups")
    trust_sections.who_ui(m, labels, key="results", table=True)
    trust_sections.how_sure_ui(m, key="results")
    with st.expander("The paper's Table 1 (reference)", expanded=False):
        widgets.metrics_table_ui(metrics_table.paper_table())
    st.subheader("Error explorer: which faces it gets wrong")
    explorer.explorer_ui(run_id, labels, cell)


st.title("Results")
run_id = widgets.run_picker_ui(key="results-run")
if run_id is None:
    st.info("No runs yet. Train a model on the Launch page (or `agerec jobs submit train`).")
else:
    results_ui(run_id)
