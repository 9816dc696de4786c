"""The single-file HTML report: plotly.js inlined once, images as data URIs, so the
file opens offline and can be mailed as it is."""
from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em} .sub{color:#666;margin-top:0} p.lead{font-size:1.3em}
.images{display:flex;flex-wrap:wrap;gap:1em} figure{margin:0;width:220px}
figure img{width:100%;image-rendering:pixelated} figcaption{font-size:.85em;color:#444}
table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
"""


@dataclass(frozen=True)
class Section:
    """One heading with its paragraphs, charts, images (caption, bytes) and a table."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    figures: tuple[go.Figure, ...] = ()
    images: tuple[tuple[str, bytes], ...] = ()
    table: Any = field(default=None, compare=False)  # a DataFrame or a pandas Styler


def data_uri(data: bytes) -> str:
    """Image bytes as a data: URI (PNG, JPEG or GIF, told apart by their first bytes)."""
    mime = ("image/jpeg" if data[:2] == b"\xff\xd8" else
            "image/gif" if data[:4] == b"GIF8" else "image/png")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def render_report(title: str, sections: list[Section], *, subtitle: str = "",
                  lead: str = "") -> str:
    """The whole report as one HTML document."""
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if subtitle:
        parts.append(f'<p class="sub">{html.escape(subtitle)}</p>')
    if lead:
        parts.append(f'<p class="lead">{html.escape(lead)}</p>')
    plotly_included = False
    for section in sections:
        parts.append(f"<h2>{html.escape(section.heading)}</h2>")
        parts += [f"<p>{html.escape(text)}</p>" for text in section.paragraphs if text]
        for fig in section.figures:
            # plotly.js (about 4 MB) goes in once, with the first chart.
            parts.append(fig.to_html(full_html=False, include_plotlyjs=not plotly_included,
                                     config={"displaylogo": False}))
            plotly_included = True
        if section.images:
            parts.append('<div class="images">')
            parts += [f'<figure><img src="{data_uri(data)}" alt="{html.escape(caption)}">'
                      f"<figcaption>{html.escape(caption)}</figcaption></figure>"
                      for caption, data in section.images]
            parts.append("</div>")
        if section.table is not None:
            parts.append(section.table.to_html())
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def report_path(home: str | Path, name: str, when: datetime) -> Path:
    """Where a report is kept: AGEREC_HOME/reports/<name>-<timestamp>.html."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "report"
    return Path(home) / "reports" / f"{slug}-{when:%Y%m%d-%H%M%S}.html"


def write_report(home: str | Path, name: str, text: str, when: datetime) -> Path:
    """Write the report under AGEREC_HOME/reports/ and return its path."""
    path = report_path(home, name, when)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
