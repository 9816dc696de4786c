"""Results of one run: headline numbers, per-class accuracy, confusion matrix, training
curves, sub-groups, the paper's Table 1 and a sample of misclassified faces."""
import streamlit as st

from dashboard import charts, data, metrics_table, plain_words, widgets
from dashboard.paper import TABLE1, paper_model_for

SAMPLE_SIZE = 12


def headline_ui(m: dict, paper: dict | None) -> None:
    """Accuracy and one-off accuracy, against the paper's when it has this model."""
    cols = st.columns(5)
    for col, (label, name) in zip(cols, (("Accuracy", "accuracy"),
                                         ("One-off accuracy", "one_off_accuracy"))):
        value, ref = m.get(name), (paper or {}).get(name)
        col.metric(label, "—" if value is None else f"{100 * value:.2f}%",
                   delta=None if value is None or ref is None else
                   f"{100 * (value - ref):+.2f} pp vs paper")
    for col, (label, name) in zip(cols[2:], (("Balanced accuracy", "balanced_accuracy"),
                                             ("Macro F1", "macro_f1"), ("QWK", "qwk"))):
        value = m.get(name)
        col.metric(label, "—" if value is None else f"{value:.3f}")
    if m.get("n") is not None:
        st.caption(f"{m['n']:.0f} test images")


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
                 "—" if population is None else f"{100 * population:.2f}%",
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


def confusion_ui(matrix, labels, *, key: str, title: str = "Confusion matrix") -> bool:
    """The confusion heatmap with a counts / row-% switch; returns whether % is shown."""
    mode = st.segmented_control("Show", ["counts", "row %"], default="counts", key=key,
                                required=True)
    normalized = mode == "row %"
    st.plotly_chart(charts.confusion_heatmap(matrix, labels, normalized=normalized,
                                             title=title), key=f"{key}-chart")
    return normalized


def misclassified_ui(run_id: int, labels: list[str]) -> None:
    """A seeded sample of wrongly classified test faces with true and predicted group."""
    k = data.key()
    preds = data.predictions(k, run_id)
    if preds is None or not {"true", "pred"} <= set(preds.columns):
        st.info("This run has no predictions.csv yet.")
        return
    wrong = preds[preds["true"] != preds["pred"]]
    st.caption(f"{len(wrong)} of {len(preds)} test faces misclassified; "
               f"a sample of {min(SAMPLE_SIZE, len(wrong))}:")
    sample = wrong.sample(min(SAMPLE_SIZE, len(wrong)), random_state=0) if len(wrong) else wrong
    column = "crop_path" if "crop_path" in sample.columns else "source_path"
    images = [(data.resolve_image(str(row[column]), k[1]),
               f"true {widgets.class_name(labels, row['true'])} → "
               f"predicted {widgets.class_name(labels, row['pred'])}")
              for _, row in sample.iterrows() if column in sample.columns]
    widgets.image_grid_ui(images, data.image_roots(k))


def results_ui(run_id: int) -> None:
    k = data.key()
    run = data.run(k, run_id)
    labels, m = run["labels"], data.metrics(k, run_id, "test")
    paper_name = paper_model_for(run["kind"], run["backbone"])
    paper = TABLE1.get(paper_name) if paper_name else None
    if not m:
        st.info(f"Run #{run_id} has no test metrics yet (status: {run['status']}).")
        return
    headline_ui(m, paper)
    pm = data.prior_metrics(k, run_id)
    population_ui(run_id, m, pm, labels)
    series = {run["name"]: m.get("per_class_accuracy") or []}
    if pm is not None:
        series["corrected for the population's age mix"] = pm.get("per_class_accuracy") or []
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.per_class_bars(
            labels, series,
            reference={f"paper {paper_name}": paper["per_class_accuracy"]} if paper else None),
            key="per-class")
    with right:
        if m.get("confusion_matrix"):
            confusion_ui(m["confusion_matrix"], labels, key="confusion")
    left, right = st.columns(2)
    with left:
        history = data.history(k, run_id)
        if history:
            st.plotly_chart(charts.training_curves(history), key="curves")
        else:
            st.info("No training curves: this run has no history.json.")
    with right:
        gender = m.get("per_gender_accuracy") or {}
        groups = {"men": gender.get("M"), "women": gender.get("F"),
                  "greyscale photos": m.get("greyscale_accuracy")}
        st.plotly_chart(charts.group_accuracy_bars(m.get("accuracy"), groups), key="groups")
    with st.expander("The paper's Table 1 (reference)", expanded=False):
        widgets.metrics_table_ui(metrics_table.paper_table())
    st.subheader("Misclassified test faces")
    misclassified_ui(run_id, labels)


st.title("Results")
run_id = widgets.run_picker_ui(data.run_options(data.key()), key="results-run")
if run_id is None:
    st.info("No runs yet. Train a model on the Launch page (or `agerec jobs submit train`).")
else:
    results_ui(run_id)
