"""Cached reads for the pages. Every function returns plain values (dicts, lists,
DataFrames), never live rows, and takes `key()` first so each AGEREC_HOME and
database gets its own cache entries."""
from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from backend.data.images import image_bytes_problem
from dashboard import access
from storage.artifacts import list_artifacts
from storage.catalog import default_entry, default_selection, get_entry, list_entries
from storage.datasets import get_dataset, list_datasets
from storage.errors import ArtifactPathError, RunNotFound
from storage.jobs import children, count_jobs, get_job, list_jobs
from storage.paths import confine
from storage.runs import get_metrics, get_run
from worker.context import AppContext

log = logging.getLogger(__name__)

TTL_S = 30  # runs, metrics, galleries: written once, read many times
LIVE_TTL_S = 1  # jobs: the Jobs page polls every few seconds

Key = tuple[str, str, str]


def key() -> Key:
    """(database URL, AGEREC_HOME, broker URL) of this request."""
    s = access.settings()
    return s.database_url, str(s.home), s.broker_url or ""


@st.cache_resource(show_spinner=False)
def _context(k: Key) -> AppContext:
    # One migrated database handle per (database, home), shared by every session.
    return AppContext(access.settings())


def app() -> AppContext:
    """The AppContext of this request (settings plus the cached database handle)."""
    return _context(key())


def _db(k: Key):
    return _context(k).db


# Runs and metrics ------------------------------------------------------------------

def _run_dict(run) -> dict[str, Any]:
    out = asdict(run)
    out["backbone"] = run.config.get("backbone") if run.kind == "train" else "ensemble"
    out["members"] = list(run.members)
    return out


@st.cache_data(ttl=TTL_S, show_spinner=False)
def run_entries(k: Key, include_hidden: bool = False) -> list[dict[str, Any]]:
    """Runs newest first as storage.catalog lists them (label, preset, n_test, accuracy,
    hidden...); smoke, failed and cancelled runs only with `include_hidden`."""
    return [e.to_dict() for e in list_entries(_db(k), include_hidden=include_hidden)]


@st.cache_data(ttl=TTL_S, show_spinner=False)
def default_run_id(k: Key, offered: list[int]) -> int:
    """Where a run picker opens among the `offered` ids: the newest finished non-smoke
    ensemble, else the newest finished non-smoke run, else the newest offered."""
    entries = [e for e in list_entries(_db(k), include_hidden=True) if e.id in set(offered)]
    found = default_entry(entries)
    return found.id if found is not None else offered[0]


@st.cache_data(ttl=TTL_S, show_spinner=False)
def default_run_ids(k: Key) -> list[int]:
    """What Compare opens on: the default ensemble and its members."""
    return default_selection(list_entries(_db(k)))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def run_entry(k: Key, run_id: int) -> dict[str, Any] | None:
    """One run as listed, hidden or not; None when there is no such run."""
    try:
        return get_entry(_db(k), run_id).to_dict()
    except RunNotFound:
        return None


@st.cache_data(ttl=TTL_S, show_spinner=False)
def run(k: Key, run_id: int) -> dict[str, Any]:
    """One run with `labels` (its dataset's class labels) and `path` (its folder)."""
    record = get_run(_db(k), run_id)
    out = _run_dict(record)
    out["labels"] = class_labels(k, record.dataset_id)
    out["path"] = str(Path(k[1]) / record.dir)
    return out


@st.cache_data(ttl=TTL_S, show_spinner=False)
def metrics(k: Key, run_id: int, scope: str = "test") -> dict[str, Any]:
    return get_metrics(_db(k), run_id, scope=scope)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def prior_metrics(k: Key, run_id: int, base: str = "test") -> dict[str, Any] | None:
    """The run's metrics on `base` under a target prior (scope '<base>+prior:<name>'):
    the source's mix when evaluated, else the newest; with its `scope`. None if none."""
    prefix = f"{base}+prior:"
    scopes = {scope: m for scope, m in get_metrics(_db(k), run_id).items()
              if scope.startswith(prefix)}
    if not scopes:
        return None
    scope = f"{prefix}source" if f"{prefix}source" in scopes else list(scopes)[-1]
    return {"scope": scope, **scopes[scope]}


@st.cache_data(ttl=TTL_S, show_spinner=False)
def class_labels(k: Key, dataset_id: int) -> list[str]:
    """The dataset's class labels; derived from its edges, or numbered, when absent."""
    scheme = get_dataset(_db(k), dataset_id).class_scheme or {}
    if scheme.get("labels"):
        return [str(label) for label in scheme["labels"]]
    edges = scheme.get("edges") or []
    return [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:])]


@st.cache_data(ttl=TTL_S, show_spinner=False)
def class_edges(k: Key, dataset_id: int) -> list[int]:
    return list((get_dataset(_db(k), dataset_id).class_scheme or {}).get("edges") or [])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def history(k: Key, run_id: int) -> list[dict[str, Any]]:
    """The run's per-epoch history.json, or [] when it has none (yet)."""
    path = _run_file(k, run_id, "history.json")
    if path is None:
        return []
    data = json.loads(path.read_text())
    return data if isinstance(data, list) else data.get("epochs", [])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def predictions(k: Key, run_id: int) -> pd.DataFrame | None:
    """The run's predictions.csv (one row per test image), or None."""
    path = _run_file(k, run_id, "predictions.csv")
    return pd.read_csv(path) if path is not None else None


def _run_file(k: Key, run_id: int, name: str) -> Path | None:
    record = get_run(_db(k), run_id)
    try:
        path = _db(k).paths.resolve(Path(record.dir) / name)
    except ArtifactPathError:
        return None
    return path if path.is_file() else None


@st.cache_data(ttl=TTL_S, show_spinner=False)
def datasets(k: Key) -> list[dict[str, Any]]:
    """Prepared datasets, newest first: id, source kind and path, n_images, labels."""
    return [{"id": d.id, "source": d.source.kind, "path": d.source.path, "n_images": d.n_images,
             "labels": list((d.class_scheme or {}).get("labels") or [])}
            for d in list_datasets(_db(k))]


# Jobs -------------------------------------------------------------------------------

@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def jobs_page(k: Key, limit: int, offset: int) -> list[dict[str, Any]]:
    """Top-level jobs, newest first."""
    return [asdict(j) for j in list_jobs(_db(k), limit=limit, offset=offset, parent_id=None)]


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def job_count(k: Key) -> int:
    return count_jobs(_db(k), parent_id=None)


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def job_children(k: Key, job_id: int) -> list[dict[str, Any]]:
    return [asdict(j) for j in children(_db(k), job_id)]


def job(k: Key, job_id: int) -> dict[str, Any]:
    """One job, uncached (right after a submit, cancel or retry)."""
    return asdict(get_job(_db(k), job_id))


# GradCAM galleries ------------------------------------------------------------------

@st.cache_data(ttl=TTL_S, show_spinner=False)
def galleries(k: Key) -> list[dict[str, Any]]:
    """Gallery folders recorded by gradcam jobs, newest first, each once (a job records
    its folder once per run it explains): folder, id, job_id, created, method, the runs
    it explains and each run's model name in it."""
    found: dict[str, dict[str, Any]] = {}
    for art in reversed(list_artifacts(_db(k), kind="gradcam")):
        try:
            path = _db(k).paths.resolve(art.path)
        except ArtifactPathError as exc:
            log.warning("gradcam artifact %s not shown: %s", art.id, exc)
            continue
        folder = path.parent if path.suffix == ".json" else path
        if not (folder / "gallery.json").is_file():
            continue
        g = found.setdefault(str(folder), {
            "id": art.id, "folder": str(folder), "job_id": art.job_id,
            "created": art.created_at, "method": art.meta.get("method", "gradcam"),
            "run_id": art.run_id, "runs": [], "models": {}})
        if art.run_id is not None and art.run_id not in g["runs"]:
            g["runs"].insert(0, art.run_id)
            g["models"][art.run_id] = art.meta.get("model")
    return list(found.values())


def own_galleries(k: Key, run_id: int) -> list[dict[str, Any]]:
    """The galleries that explain this run itself (never its members'), newest first."""
    return [g for g in galleries(k) if run_id in g["runs"]]


def run_items(k: Key, g: dict[str, Any], run_id: int) -> pd.DataFrame:
    """The items of gallery `g` that explain `run_id`: its model's, by the name the
    gradcam stage recorded (older galleries: the name ending in '#<id>')."""
    items = gallery(k, g["folder"])["items"]
    if items.empty:
        return items
    name = g["models"].get(run_id)
    keep = (items["model"] == name) if name else items["model"].astype(str).str.endswith(
        f"#{run_id}")
    return items[keep]


@st.cache_data(ttl=TTL_S, show_spinner=False)
def gallery(k: Key, folder: str) -> dict[str, Any]:
    """gallery.json of one folder: items (a DataFrame, one row per image, model and
    colour, overlay paths made absolute), summary (a DataFrame), class_names, models."""
    root = confine(folder, [k[1]])
    manifest = json.loads((root / "gallery.json").read_text())
    items = pd.DataFrame([_flat_item(item, root) for item in manifest.get("items", [])])
    return {"items": items, "summary": _gallery_summary(root, manifest),
            "class_names": manifest.get("class_names"),
            "models": [m["name"] if isinstance(m, dict) else m
                       for m in manifest.get("models", [])]}


def _flat_item(item: dict[str, Any], root: Path) -> dict[str, Any]:
    files = item.get("files") or {}
    flat = {k_: v for k_, v in item.items() if k_ not in ("files", "scores")}
    flat.update(item.get("scores") or {})
    flat["outcome"] = item.get("outcome") or ("correct" if item.get("true") == item.get("pred")
                                              else "misclassified")
    for name in ("image", "pred_overlay", "true_overlay", "overlay"):
        if files.get(name) or item.get(name):
            flat[f"{name}_path"] = str(root / (files.get(name) or item.get(name)))
    flat.setdefault("pred_overlay_path", flat.get("overlay_path"))
    flat["id"] = str(item.get("id"))
    return flat


def _gallery_summary(root: Path, manifest: dict[str, Any]) -> pd.DataFrame:
    if manifest.get("summary"):
        return pd.DataFrame(manifest["summary"])
    for name in ("summary.csv", "scores.csv"):
        if (root / name).is_file():
            return pd.read_csv(root / name)
    return pd.DataFrame()


# Images -----------------------------------------------------------------------------

def image_roots(k: Key | None = None) -> list[str]:
    """The only folders the dashboard reads images from: AGEREC_HOME and the configured
    data roots (AGEREC_DATA_ROOTS, by default the shared-data folder). A dataset source
    registered elsewhere (by any launch, with any path) never widens them."""
    settings = access.settings()
    return list(dict.fromkeys([str(settings.home), *map(str, settings.data_roots)]))


def allowed_file(path: str, roots: tuple[str, ...] = ()) -> Path:
    """The one confinement check of every file the dashboard shows: `path` with links and
    '..' resolved, if it lies under AGEREC_HOME or a data root (and under one of `roots`,
    when given, which can only narrow them); ArtifactPathError otherwise."""
    real = confine(path, image_roots())
    return confine(real, roots) if roots else real


def image_bytes(path: str, roots: tuple[str, ...] = ()) -> bytes | None:
    """The bytes of an image the dashboard may show: under the allowed folders (see
    `allowed_file`), a regular file, and an image that decodes in full within
    AGEREC_MAX_IMAGE_PIXELS. None otherwise; the reason is logged."""
    settings = access.settings()
    return _image_bytes(str(path), tuple(roots), tuple(image_roots()), settings.max_image_pixels)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=2000)
def _image_bytes(path: str, roots: tuple[str, ...], allowed: tuple[str, ...],
                 max_pixels: int) -> bytes | None:
    # `allowed` and `max_pixels` are arguments so each setting gets its own cache entries.
    try:
        real = allowed_file(path, roots)
    except ArtifactPathError as exc:
        log.warning("image not shown: %s", exc)
        return None
    if not real.is_file():
        log.warning("image not shown: %s is not a file", real)
        return None
    content = real.read_bytes()
    problem = image_bytes_problem(content, max_pixels)
    if problem is not None:
        log.warning("image not shown: %s is not a usable image (%s)", real, problem)
        return None
    return content


def resolve_image(path: str, home: str) -> str:
    """A stored image path as an absolute one (relative paths are under AGEREC_HOME)."""
    return path if Path(path).is_absolute() else str(Path(home) / path)

