"""Compare any set of runs: a Table 1-shaped table with differences against a baseline,
grouped per-class bars and confusion matrices side by side."""
import streamlit as st

from dashboard import charts, data, metrics_table, trust_charts, trust_sections, widgets
from dashboard.paper import PAPER_LABELS, TABLE1

PAGE_SIZE = 25
PER_ROW = 3  # confusion matrices side by side


def runs_table_ui() -> None:
    """Every run with its headline numbers, one page at a time."""
    k = data.key()
    total = data.run_count(k)
    with st.expander(f"All runs ({total})", expanded=False):
        offset = widgets.pager_ui(total, PAGE_SIZE, key="compare-page")
        page = data.runs_page(k, PAGE_SIZE, offset)
        st.dataframe(page, hide_index=True, column_config={
            "accuracy": st.column_config.NumberColumn(format="percent"),
            "one_off_accuracy": st.column_config.NumberColumn(format="percent")})


def selection_ui(options: list[dict]) -> tuple[list[int], bool]:
    """The runs to compare (default: the three newest), and whether to add the paper."""
    labels = {r["id"]: widgets.run_label(r) for r in options}
    chosen = st.multiselect("Runs to compare", list(labels), default=list(labels)[:3],
                            format_func=labels.get, key="compare-runs")
    with_paper = st.checkbox("Add the paper's Table 1 columns", value=True, key="compare-paper")
    return chosen, with_paper


def comparison_ui(names: dict[int, str], metrics: dict[int, dict], labels: list[str],
                  with_paper: bool) -> None:
    table = metrics_table.table1({names[i]: metrics[i] for i in names}, labels)
    if with_paper:
        # The paper's class rows line up with ours only for its five groups.
        paper = metrics_table.table1(TABLE1, labels if len(labels) == 5 else PAPER_LABELS)
        table = table.join(paper.rename(columns=lambda c: f"paper {c}"), how="left")
    baseline = st.selectbox("Baseline (differences are against it)", list(table.columns),
                            key="compare-baseline")
    widgets.metrics_table_ui(metrics_table.with_deltas(table, baseline))


def compare_ui(run_ids: list[int], with_paper: bool) -> None:
    k = data.key()
    runs = {i: data.run(k, i) for i in run_ids}
    metrics = {i: data.metrics(k, i, "test") for i in run_ids}
    names = {i: f"#{i} {runs[i]['name']}" for i in run_ids}
    missing = [names[i] for i in run_ids if not metrics[i]]
    if missing:
        st.warning(f"No test metrics yet for {', '.join(missing)}; left out.")
    names = {i: n for i, n in names.items() if metrics[i]}
    if not names:
        return
    labels = runs[next(iter(names))]["labels"]
    if len({tuple(runs[i]["labels"]) for i in names}) > 1:
        st.warning("These runs use different age groups; classes are compared by position.")
    comparison_ui(names, metrics, labels, with_paper)
    trust_sections.significance_ui(list(names), names, metrics)
    bars = charts.per_class_bars(
        labels, {names[i]: metrics[i].get("per_class_accuracy") or [] for i in names},
        reference={f"paper {m}": TABLE1[m]["per_class_accuracy"] for m in TABLE1}
        if with_paper and len(labels) == 5 else None)
    for i in names:
        trust_charts.add_intervals(bars, names[i], metrics[i].get("per_class_ci95"))
    st.plotly_chart(bars, key="compare-bars")
    mode = st.segmented_control("Confusion matrices", ["counts", "row %"], default="row %",
                                required=True, key="compare-mode")
    ids = [i for i in names if metrics[i].get("confusion_matrix")]
    for start in range(0, len(ids), PER_ROW):
        for col, i in zip(st.columns(PER_ROW), ids[start:start + PER_ROW]):
            col.plotly_chart(charts.confusion_heatmap(
                metrics[i]["confusion_matrix"], runs[i]["labels"],
                normalized=mode == "row %", title=names[i]), key=f"compare-cm-{i}")


st.title("Compare runs")
options = data.run_options(data.key())
if not options:
    st.info("No runs yet. Train a model on the Launch page (or `agerec jobs submit train`).")
else:
    runs_table_ui()
    chosen, with_paper = selection_ui(options)
    if chosen:
        compare_ui(chosen, with_paper)
    else:
        st.info("Choose one or more runs.")
