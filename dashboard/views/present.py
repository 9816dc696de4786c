"""Present: the results in plain words for non-technical viewers, and a one-file HTML
report that opens offline. Only the chosen run's own explanation is shown: a run without
one says so and offers to make it, never borrows another run's."""
from datetime import datetime, timezone

import streamlit as st

from dashboard import (access, charts, data, plain_words, presentation, report, trust_charts,
                       trust_sections, widgets)
from dashboard.paper import TABLE1, comparison_caption, paper_column, reproduces

EXAMPLES = presentation.EXAMPLES
# The explanation Present offers to make: occlusion explains any model, one face per
# class and outcome keeps it to minutes.
EXPLAIN_PARAMS = {"method": "occlusion", "per_class": 1}


def headline_ui(m: dict, edges: list[int]) -> str:
    text = plain_words.headline(m["accuracy"], m.get("one_off_accuracy"),
                                plain_words.group_width(edges))
    st.markdown(f"### {text}")
    st.caption(f"Measured on {m.get('n') or 0:.0f} test faces the model never saw in training.")
    st.markdown(f"**What “within one group” means.** {plain_words.ONE_OFF_EXPLAINED}")
    return text


def mix_ui(m: dict, pm: dict | None) -> list[str]:
    """The model as trained and, when evaluated, for the population's age mix; returns the
    sentences for the report."""
    sentences = plain_words.mix_sentences(m, pm)
    if len(sentences) < 2:
        return []  # nothing to compare until a target-prior evaluation is recorded
    st.subheader("Balanced classes or the population's age mix")
    for sentence in sentences:
        st.markdown(f"- {sentence}")
    st.markdown(f"**What the correction does.** {plain_words.PRIOR_EXPLAINED}")
    return sentences


def make_explanation_ui(run_id: int) -> None:
    """A button that queues an occlusion explanation of this run (not when read-only)."""
    if access.read_only():
        return
    if st.button("Make its explanation (occlusion, a few minutes)", key="present-explain",
                 icon=":material/image_search:"):
        from worker import job_control

        try:
            job = job_control.submit(data.app(), "gradcam", {"runs": [run_id], **EXPLAIN_PARAMS},
                                     dispatch=access.dispatch_jobs())
            data.jobs_page.clear()
            st.success(f"Job #{job.id} is {job.status}: follow it on the Jobs page; the "
                       "explanation appears here when it succeeds.")
        except (ValueError, job_control.DispatchError) as exc:
            st.error(str(exc))


def examples_ui(run: dict, labels: list[str]) -> tuple[list[tuple[str, bytes]], str]:
    """A few overlays of this run's own explanation, one sentence each; returns them and
    a sentence on what they are, for the report."""
    k = data.key()
    own = data.own_galleries(k, run["id"])
    if not own:
        text = (f"Run #{run['id']} has no explanation of its own yet, so none is shown "
                "(another run's would not show what this model looks at).")
        st.info(text)
        make_explanation_ui(run["id"])
        return [], text
    g = own[0]
    items = data.run_items(k, g, run["id"])
    labels = list(data.gallery(k, g["folder"])["class_names"] or labels)
    roots = tuple(data.image_roots(k))
    method = {"occlusion": "occlusion sensitivity (the faces' parts covered in turn)"}.get(
        g["method"], g["method"].replace("gradcam", "GradCAM"))
    text = f"This run's own explanation, by {method}: the yellow areas mattered most."
    st.caption(text)
    out = []
    picked = presentation.pick_examples(items) if not items.empty else []
    for col, item in zip(st.columns(EXAMPLES), picked):
        sentence = plain_words.example_sentence(item, labels)
        content = data.image_bytes(item["pred_overlay_path"], roots)
        with col:
            if content is not None:
                st.image(content, width="stretch")
                out.append((sentence, content))
            else:
                st.caption(widgets.placeholder(item["pred_overlay_path"]))
            st.write(sentence)
    return out, text


def weak_spots_ui(m: dict, labels: list[str]) -> list[str]:
    notes = [s for s in (plain_words.weakest_pair_sentence(m.get("confusion_matrix") or [], labels),
                         plain_words.greyscale_sentence(m.get("accuracy"),
                                                        m.get("greyscale_accuracy")),
                         plain_words.gender_sentence(m.get("per_gender_accuracy"))) if s]
    for note in notes:
        st.markdown(f"- {note}")
    return notes


def export_ui(run: dict, html_fn) -> None:
    """A download button; the click also keeps a copy under AGEREC_HOME/reports/."""
    home = data.key()[1]

    def generate() -> str:
        text = html_fn()
        if not access.read_only():
            report.write_report(home, f"report-run{run['id']}", text, datetime.now(timezone.utc))
        return text

    st.download_button("Export the report (one HTML file, opens offline)", data=generate,
                       file_name=f"agerec-run{run['id']}.html", mime="text/html",
                       key="export", type="primary", icon=":material/download:")


def present_ui(run_id: int) -> None:
    k = data.key()
    run, entry, m = data.run(k, run_id), data.run_entry(k, run_id), data.metrics(k, run_id, "test")
    if not m.get("accuracy"):
        st.info("This run has no test results yet.")
        return
    labels = run["labels"]
    lead = headline_ui(m, data.class_edges(k, run["dataset_id"]))
    mix = mix_ui(m, data.prior_metrics(k, run_id))
    column = paper_column(run["kind"], run["backbone"])
    per_class_n = [sum(row) for row in m.get("confusion_matrix") or []]
    figures = [trust_charts.add_intervals(
        charts.per_class_bars(labels, {"this model": m.get("per_class_accuracy") or []},
                              n=int(m.get("n") or 0), n_per_class=per_class_n,
                              reference={f"paper {column}": TABLE1[column]["per_class_accuracy"]}
                              if column else None),
        "this model", m.get("per_class_ci95"))]
    if m.get("confusion_matrix"):
        figures.append(charts.confusion_heatmap(m["confusion_matrix"], labels, normalized=True,
                                                title="Where each age group's faces went (% of row)"))
    st.plotly_chart(figures[0], key="present-bars")
    if column:
        if reproduces(entry):
            st.caption(f"This run reproduces the paper's {column} model.")
        st.caption(comparison_caption(entry, column))
    st.subheader("Known weak spots")
    notes = weak_spots_ui(m, labels)
    trust = trust_sections.report_sections(
        trust_sections.who_ui(m, labels, key="present"),
        trust_sections.how_sure_ui(m, key="present", coverage=False),
        trust_sections.members_ui(run))
    st.subheader("What the model looks at")
    examples, explanation = examples_ui(run, labels)
    export_ui(run, lambda: presentation.build_report(
        entry, m, lead, notes, examples, figures, labels=labels, mix=mix,
        when=datetime.now(timezone.utc), explanation=explanation, trust=trust))


st.title("The results in plain words")
run_id = widgets.run_picker_ui(key="present-run", label="Model")
if run_id is None:
    st.info("Nothing to present yet: no model has been trained.")
else:
    present_ui(run_id)
