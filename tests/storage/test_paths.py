"""Tests for storage.paths."""
from __future__ import annotations

import pytest

from storage.errors import ArtifactPathError
from storage.paths import ArtifactPaths, confine


@pytest.fixture
def paths(tmp_path):
    """An ArtifactPaths on a fresh home folder."""
    home = tmp_path / "home"
    home.mkdir()
    return ArtifactPaths(home)


def test_layout_folders(paths):
    """Check that dataset, run, job and cache folders sit at their documented places."""
    assert paths.dataset_dir(3) == paths.home / "datasets" / "3"
    assert paths.run_dir(4) == paths.home / "runs" / "4"
    assert paths.job_dir(5) == paths.home / "jobs" / "5"
    assert paths.cache_dir("crops") == paths.home / "cache" / "crops"


def test_cache_dir_rejects_nested_name(paths):
    """Check that a cache name with a separator or '..' is refused."""
    for name in ("../x", "a/b", "..", ""):
        with pytest.raises(ArtifactPathError):
            paths.cache_dir(name)


def test_relative_of_absolute_path_under_home(paths):
    """Check that an absolute path under home becomes a POSIX path relative to it."""
    assert paths.relative(paths.home / "runs" / "1" / "w.h5") == "runs/1/w.h5"


def test_relative_normalises_relative_path(paths):
    """Check that a relative path is normalised ('.' and inner '..' collapsed)."""
    assert paths.relative("runs/./1/../2/w.h5") == "runs/2/w.h5"


def test_relative_rejects_absolute_path_outside_home(paths, tmp_path):
    """Check that an absolute path outside home raises ArtifactPathError naming it."""
    with pytest.raises(ArtifactPathError, match="outside"):
        paths.relative(tmp_path / "elsewhere" / "w.h5")


def test_relative_rejects_dotdot_escape(paths):
    """Check that a relative path climbing out of home raises ArtifactPathError."""
    with pytest.raises(ArtifactPathError):
        paths.relative("runs/../../etc/passwd")


def test_resolve_inside_home(paths):
    """Check that resolve() returns the absolute path of a stored relative path."""
    assert paths.resolve("runs/1/w.h5") == paths.home / "runs" / "1" / "w.h5"


def test_resolve_rejects_dotdot_escape(paths):
    """Check that resolve() refuses a '..' path leaving home."""
    with pytest.raises(ArtifactPathError):
        paths.resolve("../secret")


def test_resolve_rejects_absolute_path_outside_home(paths):
    """Check that resolve() refuses an absolute path outside home."""
    with pytest.raises(ArtifactPathError):
        paths.resolve("/etc/passwd")


def test_resolve_rejects_symlink_escape(paths, tmp_path):
    """Check that resolve() refuses a link under home that points outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("x")
    (paths.home / "link").symlink_to(outside)
    with pytest.raises(ArtifactPathError):
        paths.resolve("link/secret.txt")


def test_confine_accepts_path_under_any_root(tmp_path):
    """Check that confine() returns the resolved path when it lies under one of the roots."""
    first, second = tmp_path / "a", tmp_path / "b"
    (second / "img").mkdir(parents=True)
    assert confine(second / "img" / ".." / "img" / "1.png", [first, second]) == \
        second / "img" / "1.png"


def test_confine_rejects_path_outside_roots(tmp_path):
    """Check that confine() raises ArtifactPathError for a path under no root."""
    with pytest.raises(ArtifactPathError, match="outside"):
        confine(tmp_path / "a" / ".." / "b.png", [tmp_path / "a"])


def test_confine_rejects_symlink_escape(tmp_path):
    """Check that confine() follows links before deciding."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.png").symlink_to(tmp_path / "target.png")
    with pytest.raises(ArtifactPathError):
        confine(root / "link.png", [root])


def test_confine_rejects_everything_without_roots(tmp_path):
    """Check that confine() with no roots allows nothing."""
    with pytest.raises(ArtifactPathError):
        confine(tmp_path, [])
