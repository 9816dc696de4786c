"""Small widgets several pages share: run pickers, a pager, percent tables, image grids."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, metrics_table


def run_label(run: dict[str, Any]) -> str:
    return f"#{run['id']} {run['name']} ({run['backbone'] or run['kind']})"


def run_picker_ui(options: list[dict[str, Any]], *, key: str, prefer_ensemble: bool = False,
                  label: str = "Run") -> int | None:
    """A run chosen from `options` (newest first); ?run=<id> in the address preselects it."""
    if not options:
        return None
    ids = [r["id"] for r in options]
    wanted = st.query_params.get("run")
    index = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in ids else 0
    if wanted is None and prefer_ensemble:
        index = next((i for i, r in enumerate(options) if r["kind"] == "ensemble"), 0)
    labels = {r["id"]: run_label(r) for r in options}
    return st.selectbox(label, ids, index=index, format_func=labels.get, key=key)


def pager_ui(total: int, page_size: int, *, key: str) -> int:
    """A page number input under a table; returns the row offset of the chosen page."""
    pages = max(1, -(-total // page_size))
    if pages == 1:
        return 0
    page = st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, step=1,
                           key=key)
    return (int(page) - 1) * page_size


def metrics_table_ui(table: pd.DataFrame) -> None:
    """A Table 1-shaped table: percentages, signed differences, kappa as a number."""
    st.dataframe(metrics_table.styled(table))


def image_grid_ui(images: Sequence[tuple[str, str]], roots: Sequence[str], *,
                  columns: int = 6) -> int:
    """(path, caption) images in a grid, only from `roots`; returns how many were shown."""
    shown = 0
    cols = st.columns(columns)
    for i, (path, caption) in enumerate(images):
        with cols[i % columns]:
            content = data.image_bytes(path, tuple(roots))
            if content is None:
                st.caption(f"{caption}\n\n(image not available)")
            else:
                st.image(content, caption=caption, width="stretch")
                shown += 1
    return shown


def class_name(labels: Sequence[str], k: Any) -> str:
    k = int(k)
    return labels[k] if 0 <= k < len(labels) else f"class {k}"
