"""GradCAM gallery: viridis overlays filtered by model, class, outcome and colour; one
face across models; the explainability scores beside the images."""
import pandas as pd
import streamlit as st

from dashboard import data, widgets

GRID_COLUMNS = 6
GRID_LIMIT = 48  # overlays drawn at once; the filters narrow the rest
SCORE_COLUMNS = ["top10_mass", "entropy", "face_share", "deletion_auc", "insertion_auc",
                 "random_deletion_auc"]
HOW_TO = """No GradCAM gallery yet. A gallery is written by a **gradcam** job:

1. train at least one model whose backbone has a feature map (vgg19, resnet152v2 or
   efficientnet_lite0);
2. on the Launch page, open *GradCAM analysis*, choose the runs and submit (or run
   `agerec jobs submit gradcam --param runs=<id>,<id>`);
3. when the job succeeds its gallery appears here. The full pipeline makes one too."""


def gallery_picker_ui(found: list[dict]) -> dict:
    labels = {g["id"]: f"gallery #{g['id']}" + (f" · job #{g['job_id']}" if g["job_id"] else "")
              + f" · {g['created']:%Y-%m-%d %H:%M}" for g in found}
    chosen = st.selectbox("Gallery", list(labels), format_func=labels.get, key="gallery-pick")
    return next(g for g in found if g["id"] == chosen)


def filters_ui(items: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Model, true class, outcome and colour filters; returns the matching items."""
    cols = st.columns(4)
    models = cols[0].multiselect("Model", sorted(items["model"].unique()),
                                 default=sorted(items["model"].unique()), key="gallery-models")
    classes = cols[1].multiselect("True age group", sorted(items["true"].unique()),
                                  format_func=lambda c: widgets.class_name(labels, c),
                                  key="gallery-classes", placeholder="all")
    outcome = cols[2].segmented_control("Outcome", ["all", "correct", "misclassified"],
                                        default="all", required=True, key="gallery-outcome")
    colour = cols[3].segmented_control("Colour", ["colour", "grey"], default="colour",
                                       required=True, key="gallery-colour")
    keep = items["model"].isin(models) & (items["colour"] == colour)
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
                           for _, row in shown.iterrows()], roots, columns=GRID_COLUMNS)


def across_models_ui(items: pd.DataFrame, labels: list[str], roots: list[str]) -> None:
    """One face through every model, in colour and grey, with its scores."""
    image_id = st.selectbox("Face", sorted(items["id"].unique()), key="gallery-face")
    same = items[items["id"] == image_id].sort_values(["colour", "model"])
    for colour, rows in same.groupby("colour", sort=False):
        st.markdown(f"**{colour}**")
        cols = st.columns(max(1, len(rows)))
        for col, (_, row) in zip(cols, rows.iterrows()):
            with col:
                widgets.image_grid_ui([(row["pred_overlay_path"], caption(row, labels))], roots,
                                      columns=1)
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


st.title("GradCAM gallery")
k = data.key()
found = data.galleries(k)
if not found:
    st.info(HOW_TO)
else:
    g = data.gallery(k, gallery_picker_ui(found)["folder"])
    items = g["items"]
    labels = list(g["class_names"] or [])
    roots = [str(p) for p in data.image_roots(k)]
    if items.empty:
        st.warning("This gallery has no images.")
    else:
        chosen = filters_ui(items, labels)
        grid_tab, across_tab = st.tabs(["Overlays", "One face, every model"])
        with grid_tab:
            scores_ui(g["summary"], sorted(chosen["model"].unique()))
            grid_ui(chosen, labels, roots)
        with across_tab:
            across_models_ui(items, labels, roots)
