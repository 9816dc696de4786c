"""The error explorer: the faces behind a confusion-matrix cell, or of one group of
people ('women 60-79'), surest first so that confident mistakes lead, each with its
true age, predicted group, probabilities and, where a gallery has one, its GradCAM
overlay."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from dashboard import data, trust_words, widgets

MAX_FACES = 24
PER_ROW = 6
GROUP_PREFIX = "group_"  # the predictions table's group label columns (and gender)


def prob_columns(preds: pd.DataFrame) -> list[str]:
    return sorted((c for c in preds.columns if str(c).startswith("prob_")),
                  key=lambda c: int(str(c).split("_")[1]))


def with_confidence(preds: pd.DataFrame) -> pd.DataFrame:
    """The table with `confidence` (the predicted class's probability) and `right`."""
    out = preds.copy()
    columns = prob_columns(out)
    out["confidence"] = out[columns].max(axis=1) if columns else float("nan")
    out["right"] = out["true"] == out["pred"]
    return out


def cell_faces(preds: pd.DataFrame, true: int, pred: int) -> pd.DataFrame:
    """The faces of one confusion-matrix cell, surest first."""
    faces = with_confidence(preds)
    faces = faces[(faces["true"] == true) & (faces["pred"] == pred)]
    return faces.sort_values("confidence", ascending=False, kind="stable")


def group_columns(preds: pd.DataFrame) -> dict[str, str]:
    """{attribute: column} of the group labels a predictions table holds."""
    out = {"gender": "gender"} if "gender" in preds.columns else {}
    out.update({str(c)[len(GROUP_PREFIX):]: str(c) for c in preds.columns
                if str(c).startswith(GROUP_PREFIX)})
    return out


def group_values(preds: pd.DataFrame, column: str) -> list[str]:
    values = preds[column].fillna("").astype(str).replace("", "unknown")
    return sorted(set(values))


def group_faces(preds: pd.DataFrame, column: str | None = None, group: str | None = None,
                true: int | None = None, mistakes_only: bool = False) -> pd.DataFrame:
    """The faces of a group of people and/or a true age group: mistakes first, each
    part surest first, so confident mistakes lead."""
    faces = with_confidence(preds)
    if column is not None and group is not None:
        labels = faces[column].fillna("").astype(str).replace("", "unknown")
        faces = faces[labels == group]
    if true is not None:
        faces = faces[faces["true"] == true]
    if mistakes_only:
        faces = faces[~faces["right"]]
    return faces.sort_values(["right", "confidence"], ascending=[True, False], kind="stable")


def face_caption(row: pd.Series, labels: Sequence[str]) -> str:
    """'true 40-59 → predicted 20-39 · age 45 · 87% sure · 1-19 1%, 20-39 87%, ...'."""
    name = (lambda k: widgets.class_name(labels, k))
    parts = [f"true {name(row['true'])} → predicted {name(row['pred'])}"]
    if "age" in row.index and pd.notna(row["age"]) and str(row["age"]) != "":
        parts.append(f"age {int(float(row['age']))}")
    if pd.notna(row.get("confidence")):
        parts.append(f"{100 * row['confidence']:.0f}% sure")
    probs = [c for c in row.index if str(c).startswith("prob_")]
    if probs:
        parts.append(", ".join(f"{name(int(str(c).split('_')[1]))} {100 * row[c]:.0f}%"
                               for c in probs))
    return " · ".join(parts)


def overlays(run_id: int) -> dict[str, str]:
    """{manifest row: overlay path} of the newest gallery that explains this run itself."""
    k = data.key()
    own = data.own_galleries(k, run_id)
    if not own:
        return {}
    items = data.run_items(k, own[0], run_id)
    if items.empty or "pred_overlay_path" not in items.columns:
        return {}
    mine = items[items["colour"] == "colour"]
    return {str(i): p for i, p in zip(mine["id"], mine["pred_overlay_path"]) if p}


def faces_ui(faces: pd.DataFrame, labels: Sequence[str], run_id: int) -> None:
    """Up to MAX_FACES faces in a grid: the crop, its overlay when there is one, and the
    caption; says how many there are in all."""
    k = data.key()
    roots = tuple(data.image_roots(k))
    maps = overlays(run_id)
    own = data.own_galleries(k, run_id)
    method = "GradCAM" if not own or own[0]["method"].startswith("gradcam") else "Occlusion"
    shown = faces.head(MAX_FACES)
    st.caption(f"{len(faces)} faces" + (f"; the first {len(shown)}:" if len(faces) > len(shown)
                                        else ":"))
    column = "crop_path" if "crop_path" in faces.columns else "source_path"
    cols = st.columns(PER_ROW)
    for i, (_, row) in enumerate(shown.iterrows()):
        caption = face_caption(row, labels)
        with cols[i % PER_ROW]:
            path = data.resolve_image(str(row[column]), k[1]) if column in row.index else ""
            content = data.image_bytes(path, roots) if path else None
            if content is None:
                st.caption(f"{caption}\n\n{widgets.placeholder(path or 'of this face')}")
                continue
            st.image(content, caption=caption, width="stretch")
            overlay = maps.get(str(row.get("row")))
            if overlay and (heat := data.image_bytes(overlay, roots)) is not None:
                st.image(heat, caption=f"{method}: where it looked", width="stretch")
                st.markdown(f"[:material/image_search: Its explanation](/gallery?run={run_id}"
                            f"&face={row.get('row')})")


def group_filter_ui(preds: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame | None:
    """A group of people and an age group to look at (e.g. women, 60-79); None when
    neither is chosen."""
    columns = group_columns(preds)
    left, middle, right, last = st.columns([2, 2, 2, 1])
    attribute = left.selectbox("People", ["everyone", *columns], key="explorer-attribute")
    group = None
    if attribute != "everyone":
        group = middle.selectbox(
            "Group", group_values(preds, columns[attribute]), key="explorer-group",
            format_func=lambda g: trust_words.group_label(attribute, g))
    age = right.selectbox("True age group", ["all", *range(len(labels))], key="explorer-age",
                          format_func=lambda c: c if c == "all" else labels[c])
    mistakes = last.checkbox("Mistakes only", value=True, key="explorer-mistakes")
    if attribute == "everyone" and age == "all" and not mistakes:
        return None
    return group_faces(preds, columns.get(attribute), group, None if age == "all" else age,
                       mistakes)


def explorer_ui(run_id: int, labels: Sequence[str], cell: tuple[int, int] | None) -> None:
    """The faces of the clicked confusion cell, else of the chosen group."""
    preds = data.predictions(data.key(), run_id)
    if preds is None or not {"true", "pred"} <= set(preds.columns):
        st.info("This run has no predictions.csv yet.")
        return
    if cell is not None:
        true, pred = cell
        st.markdown(f"**Faces of {widgets.class_name(labels, true)} taken for "
                    f"{widgets.class_name(labels, pred)}** (the clicked cell), surest first; "
                    "click another cell, or the same one again to clear it.")
        faces_ui(cell_faces(preds, true, pred), labels, run_id)
        return
    st.caption("Click a cell of the confusion matrix to see its faces, or choose a group "
               "below. Mistakes come first, surest first: confident mistakes lead.")
    faces = group_filter_ui(preds, labels)
    if faces is None:
        faces = group_faces(preds)
    faces_ui(faces, labels, run_id)
