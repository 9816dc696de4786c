"""Where datasets, runs, jobs and caches live under AGEREC_HOME, and path confinement."""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from storage.errors import ArtifactPathError


class ArtifactPaths:
    """The layout of AGEREC_HOME; stored paths are relative to it."""

    def __init__(self, home: str | os.PathLike[str]):
        self.home = Path(home).expanduser().resolve()

    def dataset_dir(self, dataset_id: int) -> Path:
        """The folder of a prepared dataset."""
        return self.home / "datasets" / str(int(dataset_id))

    def run_dir(self, run_id: int) -> Path:
        """The folder of a training run or ensemble."""
        return self.home / "runs" / str(int(run_id))

    def job_dir(self, job_id: int) -> Path:
        """The scratch folder of a job."""
        return self.home / "jobs" / str(int(job_id))

    def cache_dir(self, name: str) -> Path:
        """A named cache folder (one path component, e.g. 'crops')."""
        if not name or name in {".", ".."} or "/" in name or "\\" in name:
            raise ArtifactPathError(f"cache name {name!r} must be a single folder name")
        return self.home / "cache" / name

    def relative(self, path: str | os.PathLike[str]) -> str:
        """`path` (absolute under home, or relative to it) as a POSIX path relative to home."""
        raw = Path(path).expanduser()
        lexical = Path(os.path.normpath(self.home / raw))
        for candidate in (lexical, lexical.resolve()):
            if candidate.is_relative_to(self.home):
                rel = candidate.relative_to(self.home).as_posix()
                return rel
        raise ArtifactPathError(f"path {os.fspath(path)!r} is outside AGEREC_HOME {self.home}")

    def resolve(self, rel: str | os.PathLike[str]) -> Path:
        """The real path of a stored path; it must stay under home after following links."""
        return confine(self.home / Path(rel).expanduser(), [self.home])


def confine(path: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]]) -> Path:
    """`path` resolved (links followed) if it lies under one of `roots`, else ArtifactPathError."""
    resolved = Path(path).expanduser().resolve()
    real_roots = [Path(root).expanduser().resolve() for root in roots]
    for root in real_roots:
        if resolved.is_relative_to(root):
            return resolved
    shown = ", ".join(str(root) for root in real_roots) or "no allowed folder"
    raise ArtifactPathError(f"path {os.fspath(path)!r} is outside {shown}")
