"""The single-file HTML report."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from dashboard import charts, report
from tests.dashboard.seed import png


def sample(images=()):
    figs = (charts.per_class_bars(["a"], {"r": [0.5]}), charts.confusion_heatmap([[1]], ["a"]))
    return report.render_report("T", [report.Section("S", ("p",), figures=figs, images=images,
                                                     table=pd.DataFrame({"x": [1]}))])


def test_plotly_js_is_inlined_once():
    """Check that plotly.js is embedded exactly once, with no script loaded from the web."""
    html = sample()
    assert html.count("* plotly.js v") == 1
    assert "<script src=" not in html


def test_every_figure_is_in_the_report():
    """Check that both figures are drawn (one Plotly.newPlot each)."""
    assert sample().count("Plotly.newPlot(") == 2


def test_images_are_data_uris():
    """Check that images are embedded as base64 data URIs with their caption."""
    html = sample([("a face", png((1, 2, 3)))])
    assert 'src="data:image/png;base64,iVBOR' in html and "a face" in html


def test_text_is_escaped():
    """Check that text is HTML-escaped."""
    html = report.render_report("<b>", [report.Section("x", ("a<script>",))])
    assert "a&lt;script&gt;" in html and "<title>&lt;b&gt;</title>" in html


def test_write_report_goes_under_home_reports(tmp_path):
    """Check that the report is written to AGEREC_HOME/reports/<name>-<time>.html."""
    path = report.write_report(tmp_path, "run 3", "<html></html>", datetime(2025, 1, 2, 3, 4, 5))
    assert path == tmp_path / "reports" / "run_3-20250102-030405.html"
    assert path.read_text() == "<html></html>"
