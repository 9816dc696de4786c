"""Crop the face of many photos in parallel, cached by file content.

A crop is stored as a lossless PNG at `cache_dir/<spec.key>/<h[:2]>/<h>.png`,
where h is the sha256 of the photo's bytes, so a renamed or copied photo hits
the cache. A photo with no face leaves a small `<h>.noface` marker, so a rerun
runs no detector at all. Unreadable files are not cached: they may be fixed.

Two limits decide which photos are cropped at all, without changing a crop (so they are
not part of the cache key): `max_pixels`, read from the file's header before anything
is decoded, and `min_face_side`, the shorter side of the face found (of the whole photo
with detector 'none'). Each crop PNG records its face's side (a `face_side` text chunk),
so a cached crop is held to the limit of the run that reads it.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, PngImagePlugin

from backend.data.faces import (DETECT_DEFAULTS, DETECTORS, FaceTooSmallError, crop_largest_face,
                                make_detector)
from backend.data.images import ImageReadError, file_digest, load_image, read_header
from backend.params import InvalidParameterError, check_choice, check_float, check_int
from backend.processes import process_pool

log = logging.getLogger(__name__)
CROP_STATUSES = ("detected", "cached", "no_face", "unreadable", "missing_file", "too_large",
                 "too_small", "cancelled")
PROGRESS_INTERVAL_S = 0.25  # at most four progress calls a second, plus the final one


@dataclass(frozen=True)
class CropSpec:
    """How to crop: detector, output side in px, margin on each side, detection settings.

    `upsample` and `max_side` default to faces.DETECT_DEFAULTS[detector]; they
    are part of `key` because they change which faces are found. `min_face_side` and
    `max_pixels` (None: no limit) only decide which photos are skipped.
    """

    detector: str
    size: int = 128
    margin: float = 0.25
    upsample: int | None = None
    max_side: int | None = None
    min_face_side: int = 0
    max_pixels: int | None = None

    def __post_init__(self):
        func = "CropSpec"
        check_choice(self.detector, DETECTORS, param="detector", func=func)
        default_upsample, default_side = DETECT_DEFAULTS[self.detector]
        # Resolve defaults now so equal settings give equal specs and keys.
        resolved = {
            "size": check_int(self.size, param="size", func=func, low=8, high=2048),
            "margin": check_float(self.margin, param="margin", func=func, low=0.0, high=2.0),
            "upsample": check_int(default_upsample if self.upsample is None else self.upsample,
                                  param="upsample", func=func, low=0, high=3),
            "max_side": check_int(default_side if self.max_side is None else self.max_side,
                                  param="max_side", func=func, low=0),
            "min_face_side": check_int(self.min_face_side, param="min_face_side", func=func,
                                       low=0),
            "max_pixels": None if self.max_pixels is None else check_int(
                self.max_pixels, param="max_pixels", func=func, low=1),
        }
        for name, value in resolved.items():
            object.__setattr__(self, name, value)

    @property
    def key(self) -> str:
        """A stable folder name for these settings, e.g. 'cnn-128px-m0.25-u0-w400'."""
        return (f"{self.detector}-{self.size}px-m{self.margin:g}"
                f"-u{self.upsample}-w{self.max_side}")


@dataclass(frozen=True)
class CropOutcome:
    """What happened to one photo. `cached` is True when no detector ran for it."""

    path: str
    crop_path: str | None
    status: str
    detail: str = ""
    cached: bool = False


def count_detections(outcomes: Iterable[CropOutcome]) -> int:
    """Return how many outcomes ran a face detector (not served from the cache)."""
    return sum(1 for o in outcomes if o.status in ("detected", "no_face") and not o.cached)


def extract_crops(paths: Iterable[str | os.PathLike], cache_dir: str | os.PathLike,
                  spec: CropSpec, *, workers: int | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  cancel: Callable[[], bool] | None = None) -> list[CropOutcome]:
    """Crop the largest face of each photo; return one CropOutcome per path, in order.

    Cache hits are served here; misses go to `workers` processes (default: one
    per CPU; 1 runs here, without processes). `progress(done, total)` is called
    at most every PROGRESS_INTERVAL_S and once at the end; `cancel()` is called
    between items (keep it cheap) and, once true, the items not yet started
    come back with status 'cancelled'.
    """
    func = "extract_crops"
    if not isinstance(spec, CropSpec):
        raise InvalidParameterError("spec", func, "a CropSpec", spec)
    workers = check_int((os.cpu_count() or 1) if workers is None else workers,
                        param="workers", func=func, low=1)
    paths = [str(p) for p in paths]
    root = Path(cache_dir) / spec.key
    outcomes: list[CropOutcome | None] = [None] * len(paths)
    report = _throttled(progress, len(paths))
    done = 0

    def settle(index: int, outcome: CropOutcome) -> None:
        nonlocal done
        outcomes[index], done = outcome, done + 1
        report(done)

    cancelled = False
    # Parent first: hash each file and serve cache hits, so they never reach a worker.
    jobs: dict[str, list[int]] = {}  # digest -> indices of the paths with that content
    for index, path in enumerate(paths):
        if cancel is not None and cancel():
            cancelled = True
            break
        try:
            # The header alone: a pixel bomb is never decoded, not even by a worker.
            read_header(path, max_pixels=spec.max_pixels,
                        min_side=spec.min_face_side if spec.detector == "none" else 0)
            digest = file_digest(path)
        except ImageReadError as error:
            settle(index, _failed(path, error))
            continue
        hit = _lookup(path, root, digest, spec.min_face_side)
        if hit is None:
            jobs.setdefault(digest, []).append(index)
        else:
            settle(index, hit)
    # Then detect each distinct content once; copies take the first one's result.
    todo = [(paths[indices[0]], digest, str(root), spec) for digest, indices in jobs.items()]

    def record(job: tuple, outcome: CropOutcome) -> None:
        first, *copies = jobs[job[1]]
        settle(first, outcome)
        for index in copies:
            settle(index, _copy_of(paths[index], outcome))

    processes = _processes(workers, len(todo))
    if not cancelled and processes == 1:
        _run_inline(todo, record, cancel)
    elif not cancelled:
        _run_pool(todo, record, cancel, processes)
    # Anything left was never started.
    final = [o or CropOutcome(p, None, "cancelled", "cancelled before it was processed")
             for p, o in zip(paths, outcomes)]
    report(done, final=True)
    return final


def _run_inline(todo: list[tuple], record: Callable, cancel: Callable | None) -> None:
    """Crop one job after the other in this process, polling `cancel` in between."""
    for job in todo:
        if cancel is not None and cancel():
            return
        record(job, _crop_one(*job))


def _run_pool(todo: list[tuple], record: Callable, cancel: Callable | None,
              processes: int) -> None:
    """Crop jobs in `processes` worker processes, starting a new pool if a worker dies."""
    queue = deque(todo)
    while queue:
        stopped, broken, returned = _pool_pass(queue, record, cancel, processes)
        if stopped or not broken:
            return
        # A pool that never returned a result cannot start: a setup error, not a bad photo.
        if returned == 0:
            raise RuntimeError("the crop worker processes died before returning any result; "
                               "run extract_crops with workers=1 to see the error")


def _pool_pass(queue: deque, record: Callable, cancel: Callable | None,
               processes: int) -> tuple[bool, bool, int]:
    """Run jobs from `queue` in one pool until it is empty, cancelled or broken.

    Returns (cancelled, broken, results returned by the workers).
    """
    stopping, broken, returned, pending = False, False, 0, {}
    # Workers die with this process, so a killed job leaves no detector running.
    with process_pool(processes, make_detector, (queue[0][3].detector,)) as pool:
        while True:
            # Keep each worker busy without queueing the whole batch (cancel stays quick).
            while not (stopping or broken) and queue and len(pending) < 2 * processes:
                job = queue.popleft()
                try:
                    pending[pool.submit(_crop_one, *job)] = job
                except BrokenProcessPool:
                    queue.appendleft(job)
                    broken = True
            if not pending:
                return stopping, broken, returned
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                if future.cancelled():
                    continue
                try:
                    outcome, returned = future.result(), returned + 1
                except BrokenProcessPool:
                    # A dying worker fails every job in flight; they stay uncached for a rerun.
                    broken = True
                    outcome = CropOutcome(job[0], None, "unreadable", "a crop worker process "
                                          f"died while {job[0]!r} was in flight (out of "
                                          "memory?); rerun to retry")
                record(job, outcome)
            if not stopping and cancel is not None and cancel():
                stopping = True
                # Drop queued jobs that no worker has started; wait for the running ones.
                for future in [f for f in pending if f.cancel()]:
                    del pending[future]


def _crop_one(path: str, digest: str, root: str, spec: CropSpec) -> CropOutcome:
    """Load, detect, crop and cache one photo (runs in a worker process)."""
    try:
        image = load_image(path, max_pixels=spec.max_pixels)
        found = crop_largest_face(image, spec.detector, spec.margin, spec.size,
                                  spec.upsample, spec.max_side, spec.min_face_side)
    except ImageReadError as error:
        return _failed(path, error)
    except FaceTooSmallError as error:
        return CropOutcome(path, None, "too_small", f"{path!r}: {error}")
    except Exception as error:  # noqa: BLE001 - one bad image must never stop the batch
        return CropOutcome(path, None, "unreadable",
                           f"cropping {path!r} failed: {type(error).__name__}: {error}")
    png, marker = _cache_paths(Path(root), digest)
    if found is None:
        # Remember "no face" too, so a rerun does not detect again.
        _write_atomic(marker, lambda tmp: tmp.write_text("no face\n"))
        return CropOutcome(path, None, "no_face", f"no face found by the {spec.detector!r} "
                           f"detector in {path!r}")
    crop, side = found
    info = PngImagePlugin.PngInfo()
    info.add_text(FACE_SIDE, str(side))
    _write_atomic(png, lambda tmp: Image.fromarray(crop).save(tmp, format="PNG", pnginfo=info))
    return CropOutcome(path, str(png), "detected", "face detected and cropped")


FACE_SIDE = "face_side"  # the PNG text chunk holding the face's shorter side in the photo


def _lookup(path: str, root: Path, digest: str, min_face_side: int = 0) -> CropOutcome | None:
    """Return the cached outcome for this content, or None on a cache miss."""
    png, marker = _cache_paths(root, digest)
    if png.is_file():
        side = _cached_face_side(png) if min_face_side else None
        # Crops cached before sides were recorded carry none: they are kept.
        if side is not None and side < min_face_side:
            return CropOutcome(path, None, "too_small", f"{path!r}: the face is {side} px on "
                               f"its shorter side, below min_face_side {min_face_side} px "
                               "(cached crop)", cached=True)
        return CropOutcome(path, str(png), "cached", "crop read from the cache", cached=True)
    if marker.is_file():
        return CropOutcome(path, None, "no_face", "no face found (cached result)", cached=True)
    return None


def _copy_of(path: str, first: CropOutcome) -> CropOutcome:
    """The outcome of a photo whose bytes equal an earlier one's in the same batch."""
    detail = f"same content as {first.path!r}: {first.detail}"
    status = "cached" if first.status == "detected" else first.status
    cached = first.status in ("detected", "no_face")
    return CropOutcome(path, first.crop_path, status, detail, cached=cached)


def _cached_face_side(png: Path) -> int | None:
    """The face side a cached crop recorded (read from its header), or None."""
    try:
        with Image.open(png) as image:
            side = image.info.get(FACE_SIDE)
    except OSError as error:  # a damaged cache file: the crop's own read will report it
        log.warning("cached crop %s has no readable header: %s", png, error)
        return None
    return int(side) if side is not None and str(side).isdigit() else None


def _failed(path: str, error: ImageReadError) -> CropOutcome:
    kept = ("missing_file", "too_large", "too_small")
    return CropOutcome(path, None, error.reason if error.reason in kept else "unreadable",
                       str(error))


def _processes(workers: int, jobs: int) -> int:
    """Worker processes to start: none for a single job or inside a daemon process."""
    # Daemon processes (e.g. Celery's prefork children) may not start children.
    if multiprocessing.current_process().daemon:
        return 1
    return max(1, min(workers, jobs))


def _cache_paths(root: Path, digest: str) -> tuple[Path, Path]:
    folder = root / digest[:2]
    return folder / f"{digest}.png", folder / f"{digest}.noface"


def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def _throttled(progress: Callable[[int, int], None] | None, total: int) -> Callable:
    """Wrap `progress` so it runs at most every PROGRESS_INTERVAL_S, plus the final call."""
    last = [float("-inf")]

    def report(done: int, final: bool = False) -> None:
        now = time.monotonic()
        if progress is not None and (final or now - last[0] >= PROGRESS_INTERVAL_S):
            last[0] = now
            progress(done, total)

    return report
