"""The runs as the dashboard and `agerec runs` list them: what each one is in words
(name, kind, backbone, preset, dataset, test faces, status, accuracy), which are hidden
unless asked for (smoke, failed and cancelled runs), and which one a page opens on (the
newest finished ensemble that is not a smoke run)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.db import Database, get_row
from storage.errors import RunNotFound
from storage.tables import DatasetRow, JobRow, MetricRow, RunRow

HIDDEN_STATUSES = ("failed", "cancelled")
SMOKE = "smoke"  # the preset of runs that only check the code, in seconds
_TEST_METRICS = ("accuracy", "one_off_accuracy", "n")


@dataclass(frozen=True)
class RunEntry:
    """One run as it is listed; an ensemble's backbones, preset and weights are its
    members' (None when they differ or are unknown)."""

    id: int
    name: str
    kind: str  # 'train' or 'ensemble'
    backbone: str  # a train run's backbone; 'ensemble' for an ensemble
    backbones: tuple[str, ...]  # the backbone, or each member's
    preset: str | None  # paper, cpu, smoke; None when unknown
    weights: str | None  # the backbone's start: imagenet, none, a file
    image_size: int | None
    epochs: int | None
    # Fields changed from the preset's recipe (every member's, for an ensemble); None
    # when unknown (runs recorded before this was kept, or without a preset).
    departures: tuple[str, ...] | None
    dataset_id: int
    dataset: str  # the source's kind, e.g. 'utkface'
    dataset_size: int  # images in the prepared dataset
    status: str
    accuracy: float | None  # on the test split
    one_off_accuracy: float | None
    n_test: int | None  # test faces behind the accuracy
    members: tuple[int, ...]
    created_at: datetime

    @property
    def smoke(self) -> bool:
        return self.preset == SMOKE

    @property
    def hidden(self) -> bool:
        """Whether lists leave it out unless asked: a smoke, failed or cancelled run."""
        return self.smoke or self.status in HIDDEN_STATUSES

    @property
    def what(self) -> str:
        """'efficientnet_lite0', or 'meta ensemble of efficientnet_lite0 + dlib_face'."""
        if self.kind == "train":
            return self.name if self.name == self.backbone else f"{self.name} ({self.backbone})"
        return f"{self.name} ensemble of {' + '.join(self.backbones) or '?'}"

    @property
    def label(self) -> str:
        """'#17 meta ensemble of efficientnet_lite0 + dlib_face · preset cpu · 912 test
        faces · 71.2% · succeeded'."""
        parts = [f"#{self.id} {self.what}", f"preset {self.preset or '?'}",
                 "no test faces yet" if self.n_test is None else f"{self.n_test} test faces"]
        if self.accuracy is not None:
            parts.append(f"{100 * self.accuracy:.1f}%")
        parts.append(self.status)
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(label=self.label, hidden=self.hidden, smoke=self.smoke, what=self.what)
        return out


def list_entries(db: Database, *, include_hidden: bool = False,
                 kind: str | None = None) -> list[RunEntry]:
    """Every run, newest first; smoke, failed and cancelled runs only when asked."""
    entries = _entries(db, None)
    return [e for e in entries if (include_hidden or not e.hidden)
            and (kind is None or e.kind == kind)]


def get_entry(db: Database, run_id: int) -> RunEntry:
    """One run as listed (hidden or not); RunNotFound when there is none."""
    with db.transaction(write=False) as session:
        get_row(session, RunRow, run_id, RunNotFound)
    return _entries(db, run_id)[0]


def default_entry(entries: list[RunEntry]) -> RunEntry | None:
    """Where a page opens: the newest finished non-smoke ensemble, else the newest
    finished non-smoke run, else the newest run shown; `entries` newest first."""
    for wanted in (lambda e: e.kind == "ensemble", lambda e: True):
        found = next((e for e in entries if e.status == "succeeded" and not e.smoke
                      and wanted(e)), None)
        if found is not None:
            return found
    return entries[0] if entries else None


def default_selection(entries: list[RunEntry]) -> list[int]:
    """What Compare opens on: the default run and, for an ensemble, its members."""
    first = default_entry(entries)
    if first is None:
        return []
    return [first.id, *first.members]


def _entries(db: Database, run_id: int | None) -> list[RunEntry]:
    """Runs (all, or one) with their test metrics, presets and datasets, in four reads."""
    with db.transaction(write=False) as session:
        query = select(RunRow).order_by(RunRow.id.desc())
        if run_id is not None:
            # An ensemble's members describe it: read them too.
            one = session.get(RunRow, run_id)
            query = query.where(RunRow.id.in_([run_id, *(one.members or [])]))
        rows = list(session.scalars(query))
        ids = [r.id for r in rows]
        metrics: dict[int, dict[str, Any]] = {}
        for m in session.scalars(select(MetricRow).where(
                MetricRow.run_id.in_(ids), MetricRow.scope == "test",
                MetricRow.name.in_(_TEST_METRICS))):
            metrics.setdefault(m.run_id, {})[m.name] = m.value
        job_ids = {r.job_id for r in rows if r.job_id is not None}
        presets = {j.id: (j.params or {}).get("preset")
                   for j in session.scalars(select(JobRow).where(JobRow.id.in_(job_ids)))}
        sets = {d.id: d for d in session.scalars(
            select(DatasetRow).where(DatasetRow.id.in_({r.dataset_id for r in rows})))}
        own = {r.id: _own(r, presets) for r in rows}
        entries = [_entry(r, own, metrics.get(r.id, {}), sets[r.dataset_id]) for r in rows]
    return [e for e in entries if run_id is None or e.id == run_id]


def _own(row: RunRow, presets: dict[int, Any]) -> dict[str, Any]:
    """A train run's backbone, preset, weights, image size and epochs."""
    config = row.config or {}
    preset = config.get("preset") or presets.get(row.job_id)
    return {"backbone": config.get("backbone"), "preset": preset,
            "weights": config.get("weights"), "image_size": config.get("image_size"),
            "epochs": config.get("epochs"), "departures": _departures(config)}


def _departures(config: dict[str, Any]) -> tuple[str, ...] | None:
    """The fields a run's config records as changed from its preset; None if unrecorded."""
    changed = config.get("preset_departures")
    return None if changed is None else tuple(changed)


def _entry(row: RunRow, own: dict[int, dict[str, Any]], m: dict[str, Any],
           dataset: DatasetRow) -> RunEntry:
    members = tuple(int(i) for i in (row.members or ()))
    if row.kind == "train":
        about = own[row.id]
        backbones = (about["backbone"],) if about["backbone"] else ()
    else:
        parts = [own.get(i, {}) for i in members]
        about = {key: _common([p.get(key) for p in parts])
                 for key in ("preset", "weights", "image_size", "epochs")}
        # The ensemble's own settings (method, trials) count as much as its members'.
        changed = [p.get("departures") for p in parts] + [_departures(row.config or {})]
        about["departures"] = (None if not parts or None in changed else
                               tuple(sorted(set().union(*changed))))
        backbones = tuple(p.get("backbone") or "?" for p in parts)
    n = m.get("n")
    return RunEntry(id=row.id, name=row.name, kind=row.kind,
                    backbone=(about.get("backbone") or "?") if row.kind == "train" else "ensemble",
                    backbones=backbones, preset=about["preset"], weights=about["weights"],
                    image_size=about["image_size"], epochs=about["epochs"],
                    departures=about["departures"],
                    dataset_id=row.dataset_id, dataset=dataset.source.kind,
                    dataset_size=dataset.n_images,
                    status=row.status, accuracy=m.get("accuracy"),
                    one_off_accuracy=m.get("one_off_accuracy"),
                    n_test=None if n is None else int(n), members=members,
                    created_at=row.created_at)


def _common(values: list[Any]) -> Any:
    """The one value all members share, else None."""
    return values[0] if values and all(v == values[0] for v in values) else None
