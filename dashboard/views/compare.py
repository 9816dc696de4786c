"""Compare any set of runs: their settings side by side, a Table 1-shaped table with
differences in pp against a baseline, per-class bars, training curves on one chart and
confusion matrices on one colour scale. The selection lives in ?runs=1,2,3."""
import pandas as pd
import streamlit as st

from dashboard import charts, data, metrics_table, trust_charts, trust_sections, widgets
from dashboard.paper import PAPER_LABELS, PAPER_TEST_N, TABLE1

PAGE_SIZE = 25
MATRIX_PX = 420  # each confusion matrix's width: side by side as the window allows
# The settings that tell runs apart: (row name, field of the run's catalog entry).
SETTINGS = (("preset", "preset"), ("changed from the preset", "departures"),
            ("backbone", "backbones"), ("image size", "image_size"),
            ("epochs", "epochs"), ("weights", "weights"), ("dataset", "dataset"),
            ("dataset #", "dataset_id"), ("dataset size (faces)", "dataset_size"),
            ("test faces (n)", "n_test"), ("status", "status"))


def runs_table_ui(entries: list[dict]) -> None:
    """Every run with its headline numbers, one page at a time, every row shown."""
    with st.expander(f"All runs ({len(entries)})", expanded=False):
        offset = widgets.pager_ui(len(entries), PAGE_SIZE, key="compare-page")
        page = pd.DataFrame([{"id": e["id"], "run": e["what"], "preset": e["preset"],
                              "dataset": e["dataset"], "status": e["status"],
                              "accuracy": e["accuracy"], "one-off": e["one_off_accuracy"],
                              "test faces": e["n_test"], "created": e["created_at"]}
                             for e in entries[offset:offset + PAGE_SIZE]])
        st.dataframe(page, hide_index=True, height="content", placeholder="—", column_config={
            "accuracy": st.column_config.NumberColumn(format="percent"),
            "one-off": st.column_config.NumberColumn(format="percent")})


def selection_ui(entries: list[dict], asked: list[int] | None) -> tuple[list[int], bool]:
    """The runs to compare (`asked` by a new address's ?runs=, else the newest finished
    real ensemble and its members), and whether to add the paper."""
    labels = {e["id"]: widgets.run_label(e) for e in entries}
    if asked is not None:
        st.session_state["compare-runs"] = [i for i in asked if i in labels]
    elif "compare-runs" not in st.session_state:
        default = [i for i in data.default_run_ids(data.key()) if i in labels]
        st.session_state["compare-runs"] = default or list(labels)[:3]
    chosen = st.multiselect("Runs to compare", list(labels), format_func=labels.get,
                            key="compare-runs")
    widgets.to_url("compare-runs", "runs", chosen)
    with_paper = st.checkbox("Add the paper's Table 1 columns", value=True, key="compare-paper")
    return chosen, with_paper


def settings_ui(entries: dict[int, dict], names: dict[int, str]) -> None:
    """What each run was trained with, the rows where they differ first."""
    def shown(value, field):
        if field == "departures" and value is not None:
            return ", ".join(value) or "nothing"
        if value is None or value == ():
            return "not recorded" if field == "departures" else "—"
        return " + ".join(value) if isinstance(value, (list, tuple)) else str(value)

    rows = {row: [shown(entries[i].get(field), field) for i in names] for row, field in SETTINGS}
    table = pd.DataFrame(rows, index=list(names.values())).T
    differs = table.nunique(axis=1) > 1
    table.insert(0, "differs", differs.map({True: "yes", False: ""}))
    st.dataframe(table.sort_values("differs", ascending=False, kind="stable"),
                 height="content")


def comparison_ui(names: dict[int, str], metrics: dict[int, dict], labels: list[str],
                  with_paper: bool) -> None:
    ours = {names[i]: metrics[i] for i in names}
    table = metrics_table.table1(ours, labels)
    if with_paper:
        # The paper's class rows line up with ours only for its five groups.
        paper = metrics_table.paper_table(labels if len(labels) == 5 else PAPER_LABELS)
        table = table.join(paper.rename(columns=lambda c: f"paper {c}"), how="left")
    baseline = st.selectbox("Baseline (differences are against it, in pp)", list(table.columns),
                            key="compare-baseline")
    widgets.metrics_table_ui(metrics_table.with_deltas(table, baseline),
                             metrics_table.intervals(ours, labels))
    st.caption("In brackets: the 95% interval (bootstrap resamples of each run's test "
               "faces). A difference says more than chance only where the significance "
               "test below says so.")
    if with_paper:
        n = ", ".join(f"{names[i]}: {metrics[i].get('n') or 0:.0f}" for i in names)
        st.caption(f"The paper's columns: different models / different data (42,000 "
                   f"IMDB-WIKI faces) / n = {PAPER_TEST_N:,} test faces; ours: n = {n}.")


def matrices_ui(ids: list[int], names: dict[int, str], metrics: dict[int, dict],
                runs: dict[int, dict]) -> None:
    """One confusion matrix per run, all on one colour scale, side by side as far as the
    window allows (each keeps its readable width)."""
    mode = st.segmented_control("Confusion matrices", ["counts", "row %"], default="row %",
                                required=True, key="compare-mode")
    normalized = mode == "row %"
    counts = [v for i in ids for row in metrics[i]["confusion_matrix"] for v in row]
    zmax = 100.0 if normalized else float(max(counts or [1]))
    st.caption(f"One colour scale for every matrix: 0 to {zmax:.0f}"
               + ("% of the row." if normalized else " faces."))
    with st.container(horizontal=True):
        for i in ids:
            st.plotly_chart(charts.confusion_heatmap(
                metrics[i]["confusion_matrix"], runs[i]["labels"], normalized=normalized,
                title=names[i], zmax=zmax), key=f"compare-cm-{i}", width=MATRIX_PX)


def compare_ui(run_ids: list[int], with_paper: bool) -> None:
    k = data.key()
    runs = {i: data.run(k, i) for i in run_ids}
    entries = {i: data.run_entry(k, i) for i in run_ids}
    metrics = {i: data.metrics(k, i, "test") for i in run_ids}
    names = {i: f"#{i} {runs[i]['name']}" for i in run_ids}
    settings_ui(entries, names)
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
    series = {i: f"{names[i]} (n = {metrics[i].get('n') or 0:.0f})" for i in names}
    bars = charts.per_class_bars(
        labels, {series[i]: metrics[i].get("per_class_accuracy") or [] for i in names},
        reference={f"paper {m}": TABLE1[m]["per_class_accuracy"] for m in TABLE1}
        if with_paper and len(labels) == 5 else None)
    for i in names:
        trust_charts.add_intervals(bars, series[i], metrics[i].get("per_class_ci95"))
    st.plotly_chart(bars, key="compare-bars")
    histories = {names[i]: h for i in names if (h := data.history(k, i))}
    if histories:
        st.plotly_chart(charts.curves_of_runs(histories), key="compare-curves")
    if len(histories) < len(names):
        st.caption("No training curves for " + ", ".join(n for i, n in names.items()
                                                         if n not in histories)
                   + " (ensembles are fitted, not trained by epochs).")
    matrices_ui([i for i in names if metrics[i].get("confusion_matrix")], names, metrics, runs)


st.title("Compare runs")
k = data.key()
everything = data.run_entries(k, include_hidden=True)
if not everything:
    st.info("No runs yet. Train a model on the Launch page (or `agerec jobs submit train`).")
else:
    entries, asked = widgets.run_choices("compare-runs", "runs", multi=True)
    runs_table_ui(entries)
    chosen, with_paper = selection_ui(entries, asked)
    if chosen:
        compare_ui(chosen, with_paper)
    else:
        st.info("Choose one or more runs.")
