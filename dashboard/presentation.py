"""What the Present page shows, as data: the example faces and the HTML report."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from pandas.io.formats.style import Styler

from dashboard import metrics_table, plain_words, report
from dashboard.paper import comparison_caption, paper_column, reproduces

EXAMPLES = 3


def pick_examples(items: pd.DataFrame, n: int = EXAMPLES) -> list[dict]:
    """A correct colour face, a misclassified one and a black-and-white one, when present."""
    wanted = [("colour", "correct"), ("colour", "misclassified"), ("grey", None)]
    picked, used = [], set()
    for colour, outcome in wanted:
        rows = items[(items["colour"] == colour) & ~items.index.isin(used)]
        if outcome:
            rows = rows[rows["outcome"] == outcome]
        if len(rows):
            picked.append(rows.iloc[0].to_dict())
            used.add(rows.index[0])
    return picked[:n]


def model_in_words(entry: dict) -> str:
    """'the meta ensemble of efficientnet_lite0 + dlib_face (run #17)'."""
    return f"the {entry['what'] if 'what' in entry else entry['name']} (run #{entry['id']})"


def our_table(entry: dict, m: dict, labels: list[str]) -> Styler:
    """Our own results, shaped like the paper's Table 1 (one column: this run), styled
    with each share's 95% interval."""
    ours = {f"run #{entry['id']}": m}
    return metrics_table.styled(metrics_table.table1(ours, labels),
                                metrics_table.intervals(ours, labels))


def facts(entry: dict, m: dict, when: datetime) -> str:
    """Date, dataset and every n behind the report's numbers."""
    return (f"Made {when:%Y-%m-%d %H:%M} UTC from run #{entry['id']} "
            f"({entry.get('status', '?')}, preset {entry.get('preset') or '?'}). Dataset: "
            f"{entry.get('dataset', '?')} (dataset #{entry.get('dataset_id', '?')}, "
            f"{entry.get('dataset_size', 0):,} prepared faces). Test faces: "
            f"n = {m.get('n') or 0:.0f}, never seen in training; every percentage below is "
            f"out of them unless it says otherwise.")


def build_report(entry: dict, m: dict, lead: str, notes: list[str],
                 examples: list[tuple[str, bytes]], figures: list, *, labels: list[str],
                 when: datetime, mix: list[str] = (), explanation: str = "",
                 trust: list[report.Section] = ()) -> str:
    """The Present page as one offline HTML file. `entry` is the run as storage.catalog
    lists it; `figures` the per-class bars and, optionally, the confusion heatmap;
    `examples` (sentence, PNG bytes) the run's own explanation overlays, `explanation`
    what they are (or why there are none); `mix` the sentences on the model as trained
    and for the population's age mix; `trust` the "Who it works for" and "How sure it
    is" sections."""
    column = paper_column(entry["kind"], entry.get("backbone"))
    reproduced = reproduces(entry)
    reference = ([f"This run reproduces the paper's {reproduced} model (the same models, "
                  "preset and ImageNet weights)."] if reproduced else [])
    if column:
        reference.append(comparison_caption(entry, column))
    sections = [
        report.Section("About these numbers", (facts(entry, m, when),)),
        report.Section("Our results", table=our_table(entry, m, labels)),
        report.Section("What “within one group” means", (plain_words.ONE_OFF_EXPLAINED,)),
        *([report.Section("Balanced classes or the population's age mix",
                          (*mix, plain_words.PRIOR_EXPLAINED))] if mix else []),
        report.Section("Accuracy per age group", figures=(figures[0],)),
        *trust,
        report.Section("Where it goes wrong", tuple(notes), figures=tuple(figures[1:])),
        report.Section("What the model looks at", (explanation,), images=tuple(examples)),
        report.Section("Reference: the paper's Table 1", tuple(reference),
                       table=metrics_table.styled(metrics_table.paper_table())),
    ]
    return report.render_report(f"Age groups from faces: {model_in_words(entry)}", sections,
                                lead=lead, subtitle=f"{entry.get('dataset', '?')} · "
                                f"{m.get('n') or 0:.0f} test faces · {when:%Y-%m-%d}")
