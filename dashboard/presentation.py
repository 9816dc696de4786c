"""What the Present page shows, as data: the example faces and the HTML report."""
from __future__ import annotations

import pandas as pd

from dashboard import metrics_table, plain_words, report
from dashboard.paper import paper_model_for

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


def build_report(run: dict, m: dict, lead: str, notes: list[str],
                 examples: list[tuple[str, bytes]], figures: list, *,
                 mix: list[str] = (), trust: list[report.Section] = ()) -> str:
    """The Present page as one offline HTML file: `figures` are the per-class bars and,
    optionally, the confusion heatmap; `examples` (sentence, PNG bytes) GradCAM faces;
    `mix` the sentences on the model as trained and for the population's age mix;
    `trust` the "Who it works for" and "How sure it is" sections."""
    paper_name = paper_model_for(run["kind"], run["backbone"])
    sections = [
        report.Section("What “within one group” means", (plain_words.ONE_OFF_EXPLAINED,)),
        *([report.Section("Balanced classes or the population's age mix",
                          (*mix, plain_words.PRIOR_EXPLAINED))] if mix else []),
        report.Section("Accuracy per age group", figures=(figures[0],)),
        *trust,
        report.Section("Where it goes wrong", tuple(notes), figures=tuple(figures[1:])),
        report.Section("What the model looks at", images=tuple(examples),
                       paragraphs=() if examples else ("No GradCAM examples yet.",)),
        report.Section("Reference: the paper's Table 1",
                       (f"This run reproduces the paper's {paper_name} model."
                        if paper_name else "",),
                       table=metrics_table.styled(metrics_table.paper_table())),
    ]
    return report.render_report(f"Age groups from faces: {run['name']}", sections, lead=lead,
                                subtitle=f"run #{run['id']} · {m.get('n') or 0:.0f} test faces")


