"""Explanations: GradCAM and occlusion overlays (viridis) filtered by model, class,
outcome and colour; one face across models; the explainability scores beside them.

?run=<id> opens the newest gallery that explains that run, ?face=<id> that face, and
the gallery shown is kept in ?gallery=<id>."""
import pandas as pd
import streamlit as st

from dashboard import data, widgets

GRID_LIMIT = 48  # overlays drawn at once; the filters narrow the rest
SCORE_COLUMNS = ["top10_mass", "entropy", "face_share", "deletion_auc", "insertion_auc",
                 "random_deletion_auc"]
METHOD_WORDS = {"gradcam": "GradCAM", "gradcam++": "GradCAM++", "occlusion": "Occlusion"}
HOW_TO = """No explanation yet. A gallery is written by a **gradcam** job:

1. train at least one model (or run the full pipeline, which makes galleries itself);
2. on the Launch page, open *Explain (GradCAM or occlusion)*, choose the runs and the
   method, and submit (or run `agerec gradcam --runs <id> --method occlusion`).
   GradCAM needs a convolutional feature map (vgg19, resnet152v2, efficientnet_lite0);
   occlusion explains any model, dlib_face and ensembles too;
3. when the job succeeds its gallery appears here."""


def gallery_label(g: dict) -> str:
    """'Occlusion of ensemble#3 · job #7 · 2026-12-01 02:00'."""
    models = ", ".join(g["models"].get(r) or f"run #{r}" for r in g["runs"]) or "?"
    return (f"{METHOD_WORDS.get(g['method'], g['method'])} of {models}"
            + (f" · job #{g['job_id']}" if g["job_id"] else "")
            + f" · {g['created']:%Y-%m-%d %H:%M}")


def gallery_picker_ui(found: list[dict]) -> dict:
    """The gallery shown: ?gallery= when it names one, else the newest that explains
    ?run=, else the newest; written back to ?gallery=."""
    ids = [g["id"] for g in found]
    asked = widgets.from_url("gallery-pick", "gallery")
    wanted_run = widgets.url_ids("run")
    if asked and asked[0] in ids:
        st.session_state["gallery-pick"] = asked[0]
    elif "gallery-pick" not in st.session_state or st.session_state["gallery-pick"] not in ids:
        # The run asked for, else the run every page opens on (not a newer smoke run).
        run = wanted_run[0] if wanted_run else data.default_run_id(
            data.key(), sorted({r for g in found for r in g["runs"]}, reverse=True) or [0])
        of_run = [g["id"] for g in found if run in g["runs"]]
        if wanted_run and not of_run:
            st.warning(f"No gallery explains run #{run} yet; showing the newest.")
        st.session_state["gallery-pick"] = (of_run or ids)[0]
    labels = {g["id"]: gallery_label(g) for g in found}
    chosen = st.selectbox("Gallery", ids, format_func=labels.get, key="gallery-pick")
    widgets.to_url("gallery-pick", "gallery", [chosen])
    return next(g for g in found if g["id"] == chosen)


def filters_ui(items: pd.DataFrame, labels: list[str], gid: int) -> pd.DataFrame:
    """Model, true class, outcome and colour filters, fresh for each gallery (so they
    always name this gallery's models); returns the matching items."""
    cols = st.columns(4)
    names = sorted(items["model"].unique())
    models = cols[0].multiselect("Model", names, default=names, key=f"gallery-models-{gid}")
    classes = cols[1].multiselect("True age group", sorted(items["true"].unique()),
                                  format_func=lambda c: widgets.class_name(labels, c),
                                  key=f"gallery-classes-{gid}", placeholder="all")
    outcome = cols[2].segmented_control("Outcome", ["all", "correct", "misclassified"],
                                        default="all", required=True, key="gallery-outcome")
    colour = cols[3].segmented_control("Colour", ["colour", "grey"], default="colour",
                                       required=True, key="gallery-colour")
    keep = items["model"].isin(models or names) & (items["colour"] == colour)
    if classes:
        keep &= items["true"].isin(classes)
    if outcome != "all":
        keep &= items["outcome"] == outcome
    return items[keep]


def caption(item, labels: list[str]) -> str:
    text = (f"{item['model']} · true {widgets.class_name(labels, item['true'])} → "
            f"{widgets.class_name(labels, item['pred'])}")
    probs = item.get("probs")
    if isinstance(probs, list) and int(item["pred"]) < len(probs):
        text += f" ({100 * probs[int(item['pred'])]:.0f}%)"
    return text


def grid_ui(items: pd.DataFrame, labels: list[str], roots: list[str]) -> None:
    st.caption(f"{len(items)} overlays" + (f", first {GRID_LIMIT} shown" if len(items) > GRID_LIMIT
                                           else ""))
    shown = items.head(GRID_LIMIT)
    widgets.image_grid_ui([(row["pred_overlay_path"], caption(row, labels))
                           for _, row in shown.iterrows()], roots)


def across_models_ui(items: pd.DataFrame, labels: list[str], roots: list[str], gid: int) -> None:
    """One face through every model, in colour and grey, with its scores (?face= opens it)."""
    faces = sorted(items["id"].unique())
    key = f"gallery-face-{gid}"
    asked = st.query_params.get("face")
    if key not in st.session_state and asked in faces:
        st.session_state[key] = asked
    image_id = st.selectbox("Face", faces, key=key)
    same = items[items["id"] == image_id].sort_values(["colour", "model"])
    for colour, rows in same.groupby("colour", sort=False):
        st.markdown(f"**{colour}**")
        cols = st.columns(max(1, len(rows)))
        for col, (_, row) in zip(cols, rows.iterrows()):
            with col:
                widgets.image_grid_ui([(row["pred_overlay_path"], caption(row, labels))], roots,
                                      width=220)
                scores = {c: row.get(c) for c in SCORE_COLUMNS if c in row and pd.notna(row.get(c))}
                st.dataframe(pd.Series(scores, name="score"), width="stretch")


def scores_ui(summary: pd.DataFrame, models: list[str]) -> None:
    """Mean explainability scores per model, colour and outcome."""
    if summary.empty:
        st.info("This gallery has no summary table.")
        return
    if "model" in summary.columns:
        summary = summary[summary["model"].isin(models)]
    st.dataframe(summary, hide_index=True)
    st.caption("top10_mass: share of the map in its brightest 10% (high = focused); entropy: "
               "1 = spread evenly; face_share: share on the face itself; deletion / insertion "
               "AUC: how fast confidence falls / rises as the brightest pixels are removed / "
               "added (low deletion and high insertion = the map found what matters), against "
               "a random map's deletion AUC.")


st.title("Explanations")
k = data.key()
found = data.galleries(k)
if not found:
    st.info(HOW_TO)
else:
    chosen_gallery = gallery_picker_ui(found)
    g = data.gallery(k, chosen_gallery["folder"])
    items = g["items"]
    labels = list(g["class_names"] or [])
    roots = [str(p) for p in data.image_roots(k)]
    if items.empty:
        st.warning("This gallery has no images.")
    else:
        gid = chosen_gallery["id"]
        chosen = filters_ui(items, labels, gid)
        tabs = ["Overlays", "One face, every model"]
        grid_tab, across_tab = st.tabs(tabs, default=tabs[1] if st.query_params.get("face")
                                       else None)
        with grid_tab:
            scores_ui(g["summary"], sorted(chosen["model"].unique()))
            grid_ui(chosen, labels, roots)
        with across_tab:
            across_models_ui(items, labels, roots, gid)
