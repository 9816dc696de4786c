"""Small widgets several pages share: run pickers, a pager, percent tables, image grids."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, metrics_table


def run_label(run: dict[str, Any]) -> str:
    """What a run is, in words (storage.catalog's label)."""
    return run.get("label") or f"#{run['id']} {run['name']} ({run['backbone'] or run['kind']})"


def url_ids(name: str) -> list[int] | None:
    """The run ids ?<name>= holds in the address ('3' or '3,1,2'); None when absent,
    [] when it holds no number."""
    raw = st.query_params.get(name)
    if raw is None:
        return None
    return [int(part) for part in raw.split(",") if part.strip().isdigit()]


def from_url(key: str, name: str) -> list[int] | None:
    """The ids in ?<name>= when the address is new to this widget (first load, or typed
    or pasted since), else None: the widget's own state then wins."""
    raw = st.query_params.get(name)
    if raw == st.session_state.get(f"{key}-url"):
        return None
    st.session_state[f"{key}-url"] = raw
    return url_ids(name)


def to_url(key: str, name: str, ids: Sequence[int]) -> None:
    """Write the chosen ids to ?<name>=, so a copied address shows the same choice."""
    raw = ",".join(str(i) for i in ids)
    if st.query_params.get(name) != raw:
        st.query_params[name] = raw
    st.session_state[f"{key}-url"] = raw


def hidden_toggle_ui(key: str) -> bool:
    return st.toggle("Show smoke, failed and cancelled runs", key=f"{key}-all",
                     help="Hidden by default: smoke runs only check the code, and failed or "
                          "cancelled runs have no reliable results.")


def run_choices(key: str, name: str, multi: bool) -> tuple[list[dict[str, Any]], list[int] | None]:
    """The runs a picker offers, and the ids a new address asks for. A run the address
    names is offered even when hidden; a missing one is reported."""
    k = data.key()
    entries = data.run_entries(k, include_hidden=hidden_toggle_ui(key))
    wanted = from_url(key, name)
    if st.query_params.get(name) is not None and not url_ids(name):
        st.warning(f"The address asks for run {st.query_params.get(name)!r}, which is not a "
                   "run number.")
    for run_id in wanted or []:
        if all(e["id"] != run_id for e in entries):
            entry = data.run_entry(k, run_id)
            if entry is None:
                st.warning(f"There is no run #{run_id}" + ("." if multi else
                                                             "; showing the default run."))
            else:
                entries.append(entry)
    entries.sort(key=lambda e: -e["id"])
    return entries, wanted


def run_picker_ui(*, key: str, label: str = "Run") -> int | None:
    """The run a page shows: the one ?run= names, else the newest finished ensemble that
    is not a smoke run; smoke, failed and cancelled runs are listed only on request. The
    choice goes back into ?run=."""
    entries, wanted = run_choices(key, "run", multi=False)
    if not entries:
        return None
    ids = [e["id"] for e in entries]
    labels = {e["id"]: run_label(e) for e in entries}
    if wanted and wanted[0] in ids:
        st.session_state[key] = wanted[0]
    elif st.session_state.get(key) not in ids:
        st.session_state[key] = data.default_run_id(data.key(), ids)
    chosen = st.selectbox(label, ids, format_func=labels.get, key=key)
    to_url(key, "run", [chosen])
    entry = next(e for e in entries if e["id"] == chosen)
    if entry["hidden"]:
        st.caption(f"Run #{chosen} is a {'smoke' if entry['smoke'] else entry['status']} run: "
                   "its numbers are not a result.")
    return chosen


def pager_ui(total: int, page_size: int, *, key: str) -> int:
    """A page number input under a table; returns the row offset of the chosen page."""
    pages = max(1, -(-total // page_size))
    if pages == 1:
        return 0
    page = st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, step=1,
                           key=key)
    return (int(page) - 1) * page_size


def metrics_table_ui(table: pd.DataFrame, cell_intervals=None) -> None:
    """A Table 1-shaped table: percentages (with both ends of their 95% interval where
    known), signed differences in pp, kappa as a number; every row shown (no scrolling
    inside)."""
    st.dataframe(metrics_table.styled(table, cell_intervals), height="content")


def image_grid_ui(images: Sequence[tuple], roots: Sequence[str], *, width: int = 160) -> int:
    """(path, caption[, markdown below]) images side by side, `width` px each, wrapping
    onto new rows as the window allows (so captions stay readable at any width); only
    images from the allowed folders (narrowed to `roots`) are shown, and a file that
    cannot be (outside them, missing, damaged, too large) gets a placeholder naming it.
    Returns how many were shown."""
    shown = 0
    with st.container(horizontal=True, gap="small"):
        for path, caption, *below in images:
            with st.container(width=width):
                content = data.image_bytes(path, tuple(roots))
                if content is None:
                    st.caption(f"{caption}\n\n{placeholder(path)}")
                else:
                    st.image(content, caption=caption, width="stretch")
                    shown += 1
                for text in below:
                    if text:
                        st.markdown(text)
    return shown


def placeholder(path: str) -> str:
    """The text shown instead of an image that cannot be shown (its name only: no folder
    of the server is shown to viewers)."""
    return f"(image {Path(str(path)).name} cannot be shown)"


def class_name(labels: Sequence[str], k: Any) -> str:
    k = int(k)
    return labels[k] if 0 <= k < len(labels) else f"class {k}"
