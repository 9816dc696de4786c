"""Present: the results in plain words for non-technical viewers, and a one-file HTML
report that opens offline."""
from datetime import datetime, timezone

import streamlit as st

from dashboard import (access, charts, data, plain_words, presentation, report, trust_charts,
                       trust_sections, widgets)
from dashboard.paper import TABLE1, paper_model_for

EXAMPLES = presentation.EXAMPLES


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


def examples_ui(run: dict, labels: list[str]) -> list[tuple[str, bytes]]:
    """A few GradCAM overlays with one sentence each; returns them for the report."""
    k = data.key()
    found = data.galleries(k)
    if not found:
        st.info("No GradCAM examples yet: run a GradCAM analysis to see what the models look at.")
        return []
    # The newest gallery of this run or of its members, else the newest of all.
    own = [g for g in found if g["run_id"] in (run["id"], *run["members"])]
    g = data.gallery(k, (own or found)[0]["folder"])
    labels = list(g["class_names"] or labels)
    roots = tuple(data.image_roots(k))
    out = []
    cols = st.columns(EXAMPLES)
    for col, item in zip(cols, presentation.pick_examples(g["items"]) if not g["items"].empty else []):
        sentence = plain_words.example_sentence(item, labels)
        content = data.image_bytes(item["pred_overlay_path"], roots)
        with col:
            if content is not None:
                st.image(content, width="stretch")
                out.append((sentence, content))
            st.write(sentence)
    return out


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
                       key="export", type="primary")


def present_ui(run_id: int) -> None:
    k = data.key()
    run, m = data.run(k, run_id), data.metrics(k, run_id, "test")
    if not m.get("accuracy"):
        st.info("This run has no test results yet.")
        return
    labels = run["labels"]
    lead = headline_ui(m, data.class_edges(k, run["dataset_id"]))
    mix = mix_ui(m, data.prior_metrics(k, run_id))
    paper_name = paper_model_for(run["kind"], run["backbone"])
    figures = [trust_charts.add_intervals(
        charts.per_class_bars(labels, {"this model": m.get("per_class_accuracy") or []},
                              reference={f"paper {paper_name}":
                                         TABLE1[paper_name]["per_class_accuracy"]}
                              if paper_name else None),
        "this model", m.get("per_class_ci95"))]
    if m.get("confusion_matrix"):
        figures.append(charts.confusion_heatmap(m["confusion_matrix"], labels, normalized=True,
                                                title="Where each age group's faces went (% of row)"))
    st.plotly_chart(figures[0], key="present-bars")
    st.subheader("Known weak spots")
    notes = weak_spots_ui(m, labels)
    trust = trust_sections.report_sections(
        trust_sections.who_ui(m, labels, key="present"),
        trust_sections.how_sure_ui(m, key="present", coverage=False),
        trust_sections.members_ui(run))
    st.subheader("What the model looks at")
    examples = examples_ui(run, labels)
    export_ui(run, lambda: presentation.build_report(run, m, lead, notes, examples, figures,
                                                     mix=mix, trust=trust))


st.title("The results in plain words")
run_id = widgets.run_picker_ui(data.run_options(data.key()), key="present-run",
                               prefer_ensemble=True, label="Model")
if run_id is None:
    st.info("Nothing to present yet: no model has been trained.")
else:
    present_ui(run_id)
